/**
 * The EC2 instance state-change events member accounts forward (EventBridge `EC2 Instance State-change
 * Notification`, see the EventBridge/EC2 reference for the event's shape): what Capstan reads of one, checked field by
 * field, so a malformed or foreign event is ignored with the reason instead of failing the handler.
 */
import { INSTANCE_STATE_CHANGE } from '../provider.js';

/** The fields of the EventBridge event this handler reads. */
export interface InstanceStateChangeEvent {
  readonly 'detail-type': string;
  readonly account: string;
  readonly region: string;
  readonly detail: { readonly 'instance-id': string; readonly state: string };
}

/** Parses the event; undefined (with why) when it is not an instance state change this handler can use. */
export function parseInstanceEvent(event: unknown): { event?: InstanceStateChangeEvent; problem?: string } {
  const e = event as Partial<InstanceStateChangeEvent> | null;
  if (!e || typeof e !== 'object') return { problem: 'event: must be an object' };
  if (e['detail-type'] !== INSTANCE_STATE_CHANGE) return { problem: `detail-type: must be "${INSTANCE_STATE_CHANGE}", got ${JSON.stringify(e['detail-type'])}` };
  if (typeof e.account !== 'string' || !/^\d{12}$/.test(e.account)) return { problem: `account: must be a 12-digit account id, got ${JSON.stringify(e.account)}` };
  if (typeof e.region !== 'string' || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(e.region)) return { problem: `region: must be an AWS region, got ${JSON.stringify(e.region)}` };
  const id = e.detail?.['instance-id'];
  if (typeof id !== 'string' || !/^i-[0-9a-f]{8,17}$/.test(id)) return { problem: `detail.instance-id: must be an instance id, got ${JSON.stringify(id)}` };
  if (typeof e.detail?.state !== 'string') return { problem: `detail.state: must be a string, got ${JSON.stringify(e.detail?.state)}` };
  return { event: e as InstanceStateChangeEvent };
}

