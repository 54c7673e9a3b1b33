/**
 * Every test runs with the network closed except loopback: a socket to any other address throws at once, so no
 * test can reach AWS (or anything else) by accident. AWS SDK clients also get dummy credentials and a region, so
 * nothing tries to read a real profile or the instance metadata service.
 */
import { installLoopbackGuard } from '../../infra/local/network-guard.js';
import { silenceNodeVersionWarning } from '../../infra/local/quiet-warnings.js';

installLoopbackGuard();
silenceNodeVersionWarning();
process.env.AWS_ACCESS_KEY_ID ??= 'AKIDLOCALTEST';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local-test-secret';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_EC2_METADATA_DISABLED = 'true';
