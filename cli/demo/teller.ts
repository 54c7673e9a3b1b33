/**
 * How the demo tells its story: titled steps, one line per machine event with the time since the start, and the
 * summary replayed from the event log.
 *
 * Its own file because it is presentation only: ../demo.ts decides what happens, this decides how it reads.
 */
import { seconds, type Painter, type Sink } from '../output.js';
import type { ReplayEvent, ReplayResult } from '../replay.js';

const VERBS: Record<string, string> = {
  MachineCreated: 'created',
  MachineReady: 'Ready',
  MachineDraining: 'cordoned, draining',
  MachineDrainBlocked: 'drain blocked',
  MachineDeleted: 'deleted',
  MachineFailed: 'FAILED',
};

/** Writes the demo's lines to a sink, painted; times are measured from its construction. */
export class Teller {
  private readonly started = Date.now();
  constructor(
    private readonly out: Sink,
    readonly paint: Painter,
  ) {}
  /** One line (an empty one by default). */
  line(text = ''): void {
    this.out.write(`${text}\n`);
  }
  /** A step of the story: a blank line, then `▶ text` in bold. */
  title(text: string): void {
    this.line();
    this.line(this.paint('bold', `▶ ${text}`));
  }
  /** Time since the start, like `+  4.2s`. */
  elapsed(): string {
    return `+${((Date.now() - this.started) / 1000).toFixed(1).padStart(5)}s`;
  }
  /** One event of the log: machine and verb coloured by what happened, then the event's message. */
  event(e: ReplayEvent & { message: string }): void {
    const p = this.paint;
    const colour = e.type === 'MachineReady' || e.type === 'RolloutCompleted' ? 'green' : e.type === 'MachineCreated' ? 'cyan' : e.type.includes('Fail') || e.type.includes('Blocked') ? 'red' : e.type === 'MachineDraining' || e.type === 'MachineDeleted' ? 'magenta' : 'gray';
    const what = e.machine ? `${e.machine.padEnd(14)} ${p(colour, (VERBS[e.type] ?? e.type).padEnd(18))}` : p(colour, e.type.padEnd(33));
    this.line(`  ${p('gray', this.elapsed())}  ${what} ${p('gray', e.message)}`);
  }
}

/**
 * Tells the upgrade's summary: duration, waves, machines replaced, the lower bound and ratio, and one line per guarantee.
 * @param machines how many machines the cluster had before the upgrade
 */
export function printSummary(tell: Teller, r: ReplayResult, upgradeSeconds: number, machines: number): void {
  const p = tell.paint;
  tell.title('summary (replayed from the event log)');
  const boot = r.medianBootSeconds ?? 0;
  const drain = r.medianDrainSeconds ?? 0;
  tell.line(`  upgrade duration     ${seconds(upgradeSeconds)}`);
  tell.line(`  waves                ${r.waves}`);
  tell.line(`  machines replaced    ${r.replaced.length} of ${machines} (${r.replaced.join(', ')})`);
  tell.line(`  median boot / drain  ${seconds(boot)} / ${seconds(drain)}`);
  tell.line(`  lower bound          ${r.waves} waves × (${seconds(boot)} + ${seconds(drain)}) = ${seconds(r.lowerBoundSeconds)}`);
  tell.line(`  ratio                ${r.ratio !== undefined ? `${r.ratio.toFixed(2)}× the lower bound` : 'n/a'}`);
  tell.line('  guarantees:');
  const words: Record<string, string> = {
    MaxSurge: 'machines per pool ≤ replicas + maxSurge',
    MaxUnavailable: 'available ≥ replicas − maxUnavailable',
    Quorum: 'control-plane Ready ≥ quorum',
    ControlPlaneFirst: 'control plane finished before any worker was replaced',
  };
  for (const c of r.checks) tell.line(`    ${c.ok ? p('green', '✔') : p('red', '✘')} ${(words[c.rule] ?? c.rule).padEnd(56)} ${p('gray', c.detail)}`);
}
