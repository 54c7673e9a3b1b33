/**
 * Where the CLI sends requests and how it proves who it is.
 *
 * Precedence, highest first: flags (`--endpoint`, `--token`, `--region`, `--profile`), environment (`CAPSTAN_ENDPOINT`,
 * `CAPSTAN_TOKEN`, `AWS_REGION`, `AWS_PROFILE`), the config file (`--config`, `CAPSTAN_CONFIG`, or
 * `$XDG_CONFIG_HOME/capstan/config.yaml`), then the local defaults (`http://127.0.0.1:7070` and the token the local
 * control plane keeps in `$CAPSTAN_HOME/token`, `./.capstan` by default).
 *
 * Against AWS (a non-loopback endpoint without a token, or `auth: sigv4`) requests are signed with SigV4 for
 * `execute-api` from the standard AWS credential chain, as API Gateway's IAM authorization expects.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';

/** Environment variables the CLI reads (injected in tests). */
export type Env = Readonly<Record<string, string | undefined>>;

export const DEFAULT_ENDPOINT = 'http://127.0.0.1:7070';

/** Flags that override the environment and the config file. */
export interface ConfigFlags {
  readonly endpoint?: string;
  readonly token?: string;
  readonly config?: string;
  readonly region?: string;
  readonly profile?: string;
}

/** How to authenticate. */
export type Auth =
  | { readonly kind: 'token'; readonly token: string; readonly source: string }
  | { readonly kind: 'sigv4'; readonly region: string; readonly profile?: string }
  | { readonly kind: 'none'; readonly reason: string };

export interface ResolvedConfig {
  readonly endpoint: string;
  readonly auth: Auth;
}

/** The config file's shape (every field optional). */
export interface ConfigFile {
  readonly endpoint?: string;
  readonly token?: string;
  readonly auth?: 'token' | 'sigv4';
  readonly region?: string;
  readonly profile?: string;
}

/** A problem with the configuration; the CLI exits with the usage code. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

function configPath(flags: ConfigFlags, env: Env): { path: string; explicit: boolean } {
  if (flags.config) return { path: flags.config, explicit: true };
  if (env.CAPSTAN_CONFIG) return { path: env.CAPSTAN_CONFIG, explicit: true };
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return { path: join(base, 'capstan', 'config.yaml'), explicit: false };
}

/** Reads the config file; a missing default file is no error, a missing explicit one is. */
export function readConfigFile(flags: ConfigFlags, env: Env, cwd: string): ConfigFile {
  const { path, explicit } = configPath(flags, env);
  const full = resolve(cwd, path);
  if (!existsSync(full)) {
    if (explicit) throw new ConfigError(`config: file ${full} does not exist`);
    return {};
  }
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(full, 'utf8'));
  } catch (error) {
    throw new ConfigError(`config: ${full} is not valid YAML (${(error as Error).message})`);
  }
  if (raw === null || raw === undefined) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`config: ${full} must be a mapping of fields`);
  const file = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(file)) if (!['endpoint', 'token', 'auth', 'region', 'profile'].includes(key)) problems.push(`${key}: unknown field (allowed: endpoint, token, auth, region, profile)`);
  for (const key of ['endpoint', 'token', 'region', 'profile']) if (file[key] !== undefined && typeof file[key] !== 'string') problems.push(`${key}: must be a string`);
  if (file.auth !== undefined && file.auth !== 'token' && file.auth !== 'sigv4') problems.push(`auth: must be token or sigv4, got ${JSON.stringify(file.auth)}`);
  if (problems.length) throw new ConfigError(`config: ${full}: ${problems.join('; ')}`);
  return file as ConfigFile;
}

/** True for 127.0.0.1, ::1 and localhost endpoints (the local control plane). */
export function isLoopback(endpoint: string): boolean {
  try {
    const host = new URL(endpoint).hostname.replace(/^\[|\]$/g, '');
    return host === 'localhost' || host === '::1' || /^127\./.test(host);
  } catch {
    return false;
  }
}

/** The region of an API Gateway endpoint (`…execute-api.<region>.amazonaws.com`), if the host names one. */
export function regionOfEndpoint(endpoint: string): string | undefined {
  try {
    return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(new URL(endpoint).hostname)?.[1];
  } catch {
    return undefined;
  }
}

/** Resolves the endpoint and credentials from flags, environment, config file and local defaults. */
export function resolveConfig(flags: ConfigFlags, env: Env, cwd: string): ResolvedConfig {
  const file = readConfigFile(flags, env, cwd);
  const endpoint = (flags.endpoint ?? env.CAPSTAN_ENDPOINT ?? file.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
  try {
    const url = new URL(endpoint);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('protocol');
  } catch {
    throw new ConfigError(`endpoint: must be an http(s) URL, got ${JSON.stringify(endpoint)}`);
  }
  const explicitToken = flags.token ?? env.CAPSTAN_TOKEN ?? file.token;
  const region = flags.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? file.region ?? regionOfEndpoint(endpoint);
  const profile = flags.profile ?? env.AWS_PROFILE ?? file.profile;
  const sigv4 = (): Auth => {
    if (!region) throw new ConfigError(`region: cannot tell the AWS region of ${endpoint}; pass --region or set AWS_REGION`);
    return { kind: 'sigv4', region, ...(profile ? { profile } : {}) };
  };
  if (file.auth === 'sigv4' && !flags.token && !env.CAPSTAN_TOKEN) return { endpoint, auth: sigv4() };
  if (explicitToken) return { endpoint, auth: { kind: 'token', token: explicitToken, source: flags.token ? '--token' : env.CAPSTAN_TOKEN ? 'CAPSTAN_TOKEN' : 'config file' } };
  if (!isLoopback(endpoint)) return { endpoint, auth: sigv4() };
  const tokenPath = join(resolve(cwd, env.CAPSTAN_HOME ?? '.capstan'), 'token');
  if (existsSync(tokenPath)) return { endpoint, auth: { kind: 'token', token: readFileSync(tokenPath, 'utf8').trim(), source: tokenPath } };
  return { endpoint, auth: { kind: 'none', reason: `no token: set CAPSTAN_TOKEN, pass --token, or point CAPSTAN_HOME at the local control plane's home (looked in ${tokenPath})` } };
}
