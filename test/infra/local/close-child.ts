/**
 * Child process of workflow-close.test.ts: starts one execution whose CreateMachine handler is still running when the
 * workflow closes, then exits 0. Node's default `--unhandled-rejections=throw` turns any rejection nobody handles
 * into an exit code of 1 and a stack on stderr, which the test reads.
 */
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LocalWorkflow } from '../../../infra/local/workflow-runner.js';

const dir = mkdtempSync(path.join(tmpdir(), 'capstan-close-'));
const definitionPath = path.join(dir, 'wait.asl.json');
writeFileSync(
  definitionPath,
  JSON.stringify({
    StartAt: 'CreateMachine',
    States: {
      CreateMachine: {
        Type: 'Task',
        Resource: 'arn:aws:states:::lambda:invoke.waitForTaskToken',
        Parameters: { FunctionName: '${CreateMachineFunctionArn}', Payload: { 'execution.$': '$$.Execution.Name', intent: { machine: { name: 'm-0' } } } },
        End: true,
      },
    },
  }),
);

let entered!: () => void;
const handlerEntered = new Promise<void>((resolve) => (entered = resolve));
const quiet = { info() {}, warn() {}, error() {}, debug() {} };
const workflow = new LocalWorkflow({
  definitionPath,
  log: quiet as never,
  store: { getLease: async () => undefined, releaseLease: async () => undefined } as never,
  functions: {
    // The machine is still being created when the process shuts down: the handler outlives close().
    CreateMachineFunctionArn: async () => {
      entered();
      await new Promise((resolve) => setTimeout(resolve, 200));
      return {};
    },
  },
});

await workflow.startRollout({ cluster: 'c1', generation: 1, reason: 'test' });
await handlerEntered;
await workflow.close();
await new Promise((resolve) => setTimeout(resolve, 300)); // let a late rejection surface, if any
process.stdout.write('closed cleanly\n');
