/**
 * Loads `@kubernetes/client-node` (2.x) so that it also runs on Node 20.
 *
 * Why: client-node 2 depends on undici 8, which needs Node 22 at import time (`zlib.createZstdDecompress`,
 * `worker_threads.markAsUncloneable`, `Promise.withResolvers`). Lambda runs Node 22, where this module changes
 * nothing; local mode and the tests run on Node 20, where it installs three inert stand-ins BEFORE undici loads:
 * zstd responses cannot be decoded (the API server never sends them unasked), objects are not marked uncloneable,
 * and `withResolvers` is the standard polyfill. Remove this file once the project requires Node 22.
 */
import zlib from 'node:zlib';
import workerThreads from 'node:worker_threads';

type KubernetesClient = typeof import('@kubernetes/client-node');

let loading: Promise<KubernetesClient> | undefined;

function installNode20Shims(): void {
  const z = zlib as unknown as Record<string, unknown>;
  if (typeof z.createZstdDecompress !== 'function') {
    z.createZstdDecompress = () => {
      throw new Error('zstd decompression needs Node 22');
    };
  }
  const wt = workerThreads as unknown as Record<string, unknown>;
  if (typeof wt.markAsUncloneable !== 'function') wt.markAsUncloneable = () => undefined;
  const P = Promise as unknown as { withResolvers?: unknown };
  if (typeof P.withResolvers !== 'function') {
    P.withResolvers = function withResolvers<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    };
  }
}

/** The `@kubernetes/client-node` module, imported once, after the Node 20 shims. */
export function loadKubernetesClient(): Promise<KubernetesClient> {
  if (!loading) {
    installNode20Shims();
    loading = import('@kubernetes/client-node');
  }
  return loading;
}
