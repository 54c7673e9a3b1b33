/**
 * The layout's rules (docs/architecture.md), checked on the import graph that madge (an independent tool, also run as
 * `npx madge --circular --extensions ts functions infra providers cli`) extracts from the sources:
 * no import cycle, the domain imports only the domain, workflow phases and the reconcile sweep never import each
 * other, files read in one sitting (≤ 300 lines) and handlers are thin shells (≤ 60 lines).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import madge from 'madge';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SOURCE_DIRS = ['functions', 'infra', 'providers', 'cli'];
/** Generated or data files exempt from the size rule (none today besides the ASL, which is JSON). */
const SIZE_EXEMPT = new Set<string>([]);

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [path] : [];
  });
}

function lines(path: string): number {
  return readFileSync(join(ROOT, path), 'utf8').split('\n').length - 1;
}

describe('the layout', () => {
  let graph: Record<string, string[]>;
  let circular: string[][];

  beforeAll(async () => {
    const result = await madge(SOURCE_DIRS.map((d) => join(ROOT, d)), { baseDir: ROOT, fileExtensions: ['ts'], detectiveOptions: { ts: { skipTypeImports: false } } });
    graph = result.obj();
    circular = result.circular();
  }, 60_000);

  it('has no import cycle in functions/, infra/, providers/, cli/', () => {
    expect(Object.keys(graph).length).toBeGreaterThan(100);
    expect(circular).toEqual([]);
  });

  it('keeps functions/domain/ pure: it imports only functions/domain/', () => {
    const outside = Object.entries(graph)
      .filter(([file]) => file.startsWith('functions/domain/'))
      .flatMap(([file, deps]) => deps.filter((d) => !d.startsWith('functions/domain/')).map((d) => `${file} → ${d}`));
    expect(outside).toEqual([]);
  });

  it('never imports between functions/phases/ and functions/reconcile/, nor from a handler folder into core or adapters', () => {
    const crossing = Object.entries(graph).flatMap(([file, deps]) =>
      deps
        .filter((d) =>
          (file.startsWith('functions/phases/') && d.startsWith('functions/reconcile/')) ||
          (file.startsWith('functions/reconcile/') && d.startsWith('functions/phases/')) ||
          (/^functions\/(core|adapters|domain)\//.test(file) && /^functions\/(api|phases|reconcile)\//.test(d)))
        .map((d) => `${file} → ${d}`));
    expect(crossing).toEqual([]);
  });

  it('keeps every source file within 300 lines', () => {
    const long = SOURCE_DIRS.flatMap(sourceFiles).filter((f) => !SIZE_EXEMPT.has(f)).map((f) => [f, lines(f)] as const).filter(([, n]) => n > 300);
    expect(long).toEqual([]);
  });

  it('keeps every Lambda handler file (api, phases, reconcile) within 60 lines', () => {
    const handlers = ['functions/api', 'functions/phases', 'functions/reconcile']
      .flatMap((dir) => readdirSync(join(ROOT, dir)).filter((n) => n.endsWith('.ts')).map((n) => join(dir, n)))
      .filter((f) => /export const handler\b/.test(readFileSync(join(ROOT, f), 'utf8')));
    expect(handlers.length).toBeGreaterThanOrEqual(15);
    expect(handlers.map((f) => [relative(ROOT, join(ROOT, f)), lines(f)]).filter(([, n]) => (n as number) > 60)).toEqual([]);
  });
});
