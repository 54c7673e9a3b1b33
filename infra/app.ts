/**
 * The Capstan CDK app: the management stack and one member stack, checked by cdk-nag (AWS Solutions pack).
 *
 * Settings come from CDK context (cdk.json or `-c key=value`, see infra/stacks/config.ts); with none the stacks are
 * environment-agnostic and `cdk synth` needs no credentials.
 */
import { App } from 'aws-cdk-lib';
import { buildCapstanApp } from './stacks/capstan-app.js';

const app = new App();
buildCapstanApp(app);
app.synth();
