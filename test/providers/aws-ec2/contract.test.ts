/** The shared provider contract (P1–P9) run against the EC2 provider over the in-memory AWS. */
import { describeProviderContract } from '../contract.js';
import { makeEc2Harness } from './ec2-harness.js';

describeProviderContract('aws-ec2', () => makeEc2Harness(), { faultKinds: ['throttled', 'unavailable', 'capacity', 'rejected'], readyTimeoutMs: 3000 });
