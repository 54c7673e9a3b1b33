/**
 * `capstan --version`: the package's version, asked for before the command only (`upgrade NAME --version V` is
 * upgrade's own flag), and listed in the help.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXIT, run } from '../../cli/main.js';
import { packageVersion } from '../../cli/version.js';
import { sink } from './helpers.js';

const VERSION = (JSON.parse(readFileSync(join(process.cwd(), 'package.json'), 'utf8')) as { version: string }).version;

async function cli(argv: readonly string[]) {
  const stdout = sink();
  const stderr = sink();
  // Nothing listens on port 9: a command that gets as far as calling the API fails fast with exit 9.
  const code = await run(argv, { stdout, stderr, env: { CAPSTAN_ENDPOINT: 'http://127.0.0.1:9', CAPSTAN_TOKEN: 't', HOME: tmpdir() }, cwd: tmpdir() });
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

describe('capstan --version', () => {
  it.each([
    { name: '--version', argv: ['--version'] },
    { name: '-V', argv: ['-V'] },
    { name: '--version after program options with values', argv: ['--endpoint', 'http://127.0.0.1:1', '-o', 'json', '--version'] },
    { name: '--version before a command', argv: ['--version', 'get', 'clusters'] },
  ])('prints the package version and nothing else: $name', async ({ argv }) => {
    // Act
    const result = await cli(argv);

    // Assess
    expect(result).toEqual({ code: EXIT.Ok, stdout: `${VERSION}\n`, stderr: '' });
  });

  it.each([
    { name: 'upgrade NAME --version V (upgrade\'s own flag)', argv: ['upgrade', 'web', '--version', 'v1.19.1'] },
    { name: 'a program option whose value is --version', argv: ['--token', '--version', 'get', 'clusters'] },
  ])('leaves the command its flag: $name', async ({ argv }) => {
    const result = await cli(argv);

    expect(result.stdout).not.toContain(VERSION);
    expect(result.code).toBe(EXIT.Unreachable);
  });

  it('is listed in the help of the program, not of its commands', async () => {
    const root = await cli(['--help']);
    const upgrade = await cli(['upgrade', '--help']);

    expect(root.stdout).toMatch(/-V, --version +print the version of capstan/);
    expect(upgrade.stdout).toMatch(/--version <version> +target version/);
    expect(upgrade.stdout).not.toContain('print the version of capstan');
  });
});

describe('packageVersion', () => {
  let dir: string;
  beforeAll(() => (dir = mkdtempSync(join(tmpdir(), 'capstan-version-'))));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the nearest package.json named capstan above the module, past other packages', () => {
    // Prepare: an installed package's layout inside another project.
    const pkg = join(dir, 'app', 'node_modules', 'capstan');
    mkdirSync(join(pkg, 'dist', 'cli'), { recursive: true });
    writeFileSync(join(dir, 'app', 'package.json'), JSON.stringify({ name: 'app', version: '9.9.9' }));
    writeFileSync(join(pkg, 'package.json'), JSON.stringify({ name: 'capstan', version: '1.2.3' }));
    writeFileSync(join(pkg, 'dist', 'package.json'), JSON.stringify({ type: 'module' }));

    // Act, Assess
    expect(packageVersion(pathToFileURL(join(pkg, 'dist', 'cli', 'main.js')).href)).toBe('1.2.3');
    expect(packageVersion()).toBe(VERSION);
  });

  it('fails when no package.json named capstan is above the module, naming where it started', () => {
    mkdirSync(join(dir, 'loose'), { recursive: true });

    expect(() => packageVersion(join(dir, 'loose', 'main.js'))).toThrow(`no package.json named capstan at or above ${join(dir, 'loose')}`);
  });
});
