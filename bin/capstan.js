#!/usr/bin/env node
/**
 * The `capstan` command. Two ways in, chosen by what is beside this file:
 *  - an installed package (`npm i -g ./capstan-<version>.tgz`, or a dependency) ships no TypeScript sources: it runs
 *    the built CLI, `dist/cli/main.js` (one esbuild bundle, no dependencies to resolve: < 0.3 s to start);
 *  - a checkout of the repository (`cli/main.ts` exists: `npm run -s capstan -- …`, `npm link`) runs the sources
 *    through tsx, in this process: what you edit is what runs, even when a `dist/` from an earlier `npm run build`
 *    or `npm pack` is lying around (it would be stale). Slower to start (0.4–1.7 s): the price of not building.
 * Signals and the exit code are the CLI's own (cli/main.ts `main`).
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'cli', 'main.ts');
const built = join(root, 'dist', 'cli', 'main.js');

let entry = built;
if (existsSync(source)) {
  // tsx is a devDependency: present in a checkout after `npm ci`, never needed by an installed package.
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
} else if (!existsSync(built)) {
  process.stderr.write(`capstan: neither ${built} nor ${source} exists; build the package with \`npm run build\`\n`);
  process.exit(1);
}
const { main } = await import(pathToFileURL(entry).href);
await main(process.argv.slice(2));
