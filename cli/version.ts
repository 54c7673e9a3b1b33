/**
 * `capstan --version`: the version of the package the running CLI belongs to.
 *
 * Note: found by walking up from this module to the first `package.json` named `capstan`, because the module runs
 * from three places: `cli/` in a checkout (the repository's package.json is one up), `dist/cli/` of a build and
 * `node_modules/capstan/dist/cli/` of an installed package (two up). Read only when asked, so start-up pays nothing.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The `name` of the package.json {@link packageVersion} looks for. */
export const PACKAGE_NAME = 'capstan';

/**
 * The `version` of the nearest `package.json` named {@link PACKAGE_NAME} at or above `from`'s directory.
 *
 * @throws Error naming the start directory when there is none (a CLI copied out of its package).
 */
export function packageVersion(from: string = import.meta.url): string {
  const start = dirname(from.startsWith('file:') ? fileURLToPath(from) : from);
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = readManifest(join(dir, 'package.json'));
    if (manifest?.name === PACKAGE_NAME && typeof manifest.version === 'string') return manifest.version;
    if (dirname(dir) === dir) throw new Error(`no package.json named ${PACKAGE_NAME} at or above ${start}`);
  }
}

function readManifest(file: string): { name?: unknown; version?: unknown } | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
  } catch {
    return undefined;
  }
}
