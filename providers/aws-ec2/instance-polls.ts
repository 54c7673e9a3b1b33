/**
 * The bounded waits on a just-launched instance: until EC2 knows its id, and until it is `running`. EC2 is
 * eventually consistent (https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html), and these are
 * the provider's only sleeps, so their bound and backoff live in one file:
 *
 *   RunInstances ─ Describe: NotFound ─ pending ─ … ─ running
 *                  └── ≤ attempts, interval doubling to 8 s (~40 s) ──┘
 */
import type { EC2Client } from '@aws-sdk/client-ec2';
import { ProviderUnavailableError } from '../../functions/domain/errors.js';
import { realSleep, type RetryOptions } from './aws-errors.js';
import { describeInstancesById } from './instances.js';

/** The bound of the waits (a part of ec2-provider.ts `Ec2ProviderOptions`). */
export interface InstancePollOptions {
  /** Its `sleep` is the one the waits use. @default setTimeout-based sleep */
  readonly retry?: RetryOptions;
  /** @default 8 checks, 1 s doubling to 8 s */
  readonly registration?: { readonly attempts?: number; readonly intervalMs?: number };
}

function bounds(options: InstancePollOptions) {
  const attempts = Math.max(1, options.registration?.attempts ?? 8);
  const sleep = options.retry?.sleep ?? realSleep;
  const delayMs = (attempt: number) => Math.min(8000, (options.registration?.intervalMs ?? 1000) * 2 ** (attempt - 1));
  return { attempts, sleep, delayMs };
}

/**
 * Waits until the instance is `running`: true then, false as soon as it is seen on its way out (stopping,
 * shutting-down, terminated: it never serves). Past the bound it throws ProviderUnavailableError (the workflow
 * retries CreateMachine on that name; the retry finds the instance and waits again).
 */
export async function awaitRunning(ec2: Pick<EC2Client, 'send'>, instanceId: string, options: InstancePollOptions): Promise<boolean> {
  const { attempts, sleep, delayMs } = bounds(options);
  let state = 'unknown';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const [instance] = await describeInstancesById(ec2, [instanceId], options.retry); // [] while EC2 does not know the id yet
    state = instance?.State?.Name ?? 'not visible yet';
    if (state === 'running') return true;
    if (instance && state !== 'pending') return false; // stopping, shutting-down, terminated: never serves the API
    if (attempt < attempts) await sleep(delayMs(attempt));
  }
  throw new ProviderUnavailableError(`instance ${instanceId}: ${state} after ${attempts} checks; registers with the API load balancer once running`);
}

/**
 * Waits until DescribeInstances knows a just-launched instance, so that the next listMachines — the planner's view —
 * sees it. Past the bound it returns anyway: the ClientToken keeps a retry from launching a second one.
 */
export async function awaitVisible(ec2: Pick<EC2Client, 'send'>, instanceId: string, options: InstancePollOptions): Promise<void> {
  const { attempts, sleep, delayMs } = bounds(options);
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if ((await describeInstancesById(ec2, [instanceId], options.retry)).length > 0) return;
    if (attempt < attempts) await sleep(delayMs(attempt));
  }
}
