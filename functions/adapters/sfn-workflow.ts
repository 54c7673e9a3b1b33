/**
 * The Workflow port on AWS: Step Functions executions of the rollout state machine.
 *
 * At most one execution converges a cluster: the lease in the store decides (the plan step takes it), and this
 * adapter does not even start an execution while a live lease exists. A race of two starts is harmless: the
 * loser's first plan step finds the lease taken and ends (`Superseded`).
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import type { Clock, Store, Workflow } from '../domain/ports.js';

export interface SfnWorkflowProps {
  readonly client: SFNClient;
  readonly stateMachineArn: string;
  readonly store: Store;
  readonly clock: Clock;
}

/** Execution names: `<cluster>-g<generation>-<reason>-<time36>` (≤ 80 chars of [A-Za-z0-9-_]). */
export function executionName(cluster: string, generation: number, reason: string, now: Date): string {
  const safeReason = reason.replace(/[^A-Za-z0-9-_]/g, '').slice(0, 12) || 'run';
  return `${cluster}-g${generation}-${safeReason}-${now.getTime().toString(36)}`.slice(0, 80);
}

export class SfnWorkflow implements Workflow {
  constructor(private readonly props: SfnWorkflowProps) {}

  async startRollout(request: { cluster: string; generation: number; reason: string }): Promise<{ executionName: string; started: boolean }> {
    const now = this.props.clock.now();
    const lease = await this.props.store.getLease(request.cluster);
    if (lease && Date.parse(lease.expiresAt) > now.getTime()) return { executionName: lease.holder, started: false };
    const name = executionName(request.cluster, request.generation, request.reason, now);
    try {
      await this.props.client.send(new StartExecutionCommand({
        stateMachineArn: this.props.stateMachineArn,
        name,
        input: JSON.stringify({ cluster: request.cluster, generation: request.generation, iteration: 0, historyEvents: 0 }),
      }));
      return { executionName: name, started: true };
    } catch (error) {
      if ((error as { name?: string }).name === 'ExecutionAlreadyExists') return { executionName: name, started: false };
      throw error;
    }
  }

  async sendTaskSuccess(taskToken: string, output: unknown): Promise<void> {
    await this.props.client.send(new SendTaskSuccessCommand({ taskToken, output: JSON.stringify(output ?? {}) }));
  }

  async sendTaskFailure(taskToken: string, error: string, cause: string): Promise<void> {
    await this.props.client.send(new SendTaskFailureCommand({ taskToken, error, cause }));
  }
}
