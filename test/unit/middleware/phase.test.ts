import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import type { Deps } from '../../../functions/adapters/deps.js';
import { createLogger } from '../../../functions/adapters/logger.js';
import { ProviderThrottledError, StoreConflictError } from '../../../functions/domain/errors.js';
import { keepErrorName, phaseHandler, type PhaseContext, type PhaseMiddleware } from '../../../functions/middleware/phase.js';
import { DrainInProgressError, InfrastructureDeletionInProgressError } from '../../../functions/phases/lib/errors.js';

/** Just what the phase stack reads of the dependencies: the logger. */
function fakeDeps(lines: string[]): Deps {
  const partial: Partial<Deps> = { log: createLogger({ level: 'debug', write: (l) => lines.push(l) }) };
  return partial as Deps;
}

describe('phaseHandler', () => {
  it('runs the phase with its input and the dependencies and returns its output, with or without a Lambda context', async () => {
    // Prepare
    const deps = fakeDeps([]);
    const seen: unknown[] = [];
    const handler = phaseHandler(async (input: unknown, d: Deps) => { seen.push(input, d); return { status: 'Done' }; }, { getDeps: async () => deps });
    // Act
    const local = await handler({ cluster: 'c' });
    const lambda = await handler({ cluster: 'c' }, { awsRequestId: 'r-1' } as Context);
    // Assess
    expect([local, lambda]).toEqual([{ status: 'Done' }, { status: 'Done' }]);
    expect(seen).toEqual([{ cluster: 'c' }, deps, { cluster: 'c' }, deps]);
  });

  it.each([
    ['StoreConflictError', new StoreConflictError('cluster c: too many concurrent updates')],
    ['DrainInProgressError', new DrainInProgressError('drain of c-md-0-1 in progress')],
    ['ProviderThrottledError', new ProviderThrottledError('RunInstances throttled')],
    ['InfrastructureDeletionInProgressError', new InfrastructureDeletionInProgressError('vpc still deleting')],
  ])('hands a %s to Step Functions as it was thrown, and logs it', async (name, error) => {
    // Prepare
    const lines: string[] = [];
    const handler = phaseHandler(async () => { throw error; }, { name: 'retireMachine', getDeps: async () => fakeDeps(lines) });
    // Act
    const thrown = await handler({ cluster: 'c', execution: 'e-1' }, { awsRequestId: 'r-1' } as Context).catch((e: unknown) => e);
    // Assess
    expect(thrown).toBe(error);
    expect((thrown as Error).name).toBe(name);
    expect(lines.map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ phase: 'retireMachine', requestId: 'r-1', cluster: 'c', execution: 'e-1', errorName: name })]);
  });

  it('lets a phase run to the Lambda timeout instead of failing early with middy\'s TimeoutError', async () => {
    const handler = phaseHandler(async () => { await new Promise((r) => setTimeout(r, 30)); return 'finished'; }, { getDeps: async () => fakeDeps([]) });
    await expect(handler({}, { getRemainingTimeInMillis: () => 10 } as unknown as Context)).resolves.toBe('finished');
  });
});

describe('keepErrorName', () => {
  it('fails when an earlier onError tries to turn the failure into an output', async () => {
    // Prepare: a middleware that would answer a failed phase with a result
    const swallow: PhaseMiddleware = { onError: (request) => { request.response = { status: 'Done' }; } };
    const error = new StoreConflictError('machine m: too many concurrent updates');
    const handler = middy<unknown, unknown, Error, PhaseContext>(async () => { throw error; }).use([keepErrorName(), swallow]);
    // Act / Assess
    await expect(handler({}, {} as PhaseContext)).rejects.toBe(error);
  });
});
