/**
 * A full garbage collection on demand, so heap figures start from the same floor. Node exposes `gc` only with
 * --expose-gc; the flag can be set at run time and the function taken from a fresh context.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | undefined;

/** Runs a full GC (twice, to also free what finalizers released) and returns the heap in use after it. */
export function collectGarbage(): number {
  if (!collect) {
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collect();
  return process.memoryUsage().heapUsed;
}
