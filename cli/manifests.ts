/**
 * Reading `-f FILE|DIR|-`: one or more YAML/JSON files, each possibly multi-document, joined into one YAML stream
 * for `POST /v1/apply`, with a map from document index back to the file it came from (so an error about
 * `documents[3].spec.version` can say which file to fix).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, resolve } from 'node:path';
import { isScalar, parseAllDocuments, stringify } from 'yaml';
import { CliError, EXIT } from './context.js';

export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/** A file's place in the joined stream. */
export interface ManifestSource {
  readonly file: string;
  /** Index of its first non-empty document in the joined stream. */
  readonly first: number;
  readonly count: number;
}

export interface Manifests {
  /** The joined YAML stream. */
  readonly text: string;
  /** Parsed documents (non-empty ones), in stream order. */
  readonly documents: unknown[];
  readonly sources: readonly ManifestSource[];
}

async function readStdin(stdin: AsyncIterable<string | Buffer> | undefined): Promise<string> {
  if (!stdin) throw new CliError(EXIT.Usage, '-f -: no standard input to read');
  let text = '';
  for await (const chunk of stdin) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}

function filesOf(path: string): string[] {
  let stat;
  try {
    stat = statSync(path);
  } catch {
    throw new CliError(EXIT.Usage, `-f: ${path} does not exist`);
  }
  if (!stat.isDirectory()) return [path];
  const files = readdirSync(path)
    .filter((name) => (MANIFEST_EXTENSIONS as readonly string[]).includes(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(path, name));
  if (!files.length) throw new CliError(EXIT.Usage, `-f: directory ${path} holds no ${MANIFEST_EXTENSIONS.join(', ')} file`);
  return files;
}

/** Parses one file's text locally, so a YAML syntax error names the file and line before anything is sent. */
function parseFile(label: string, text: string): unknown[] {
  const docs = parseAllDocuments(text, { uniqueKeys: true, merge: false });
  const list = Array.isArray(docs) ? docs : [];
  const problems: string[] = [];
  const values: unknown[] = [];
  for (const doc of list) {
    for (const error of doc.errors.slice(0, 3)) {
      const at = error.linePos?.[0];
      problems.push(`${label}${at ? `:${at.line}:${at.col}` : ''}: ${error.message.split('\n')[0]}`);
    }
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.source === '' && doc.contents.tag === undefined)) continue;
    if (!doc.errors.length) values.push(doc.toJS());
  }
  if (problems.length) throw new CliError(EXIT.Invalid, `${label}: not valid YAML`, problems);
  return values;
}

/** Reads `-f` (a file, a directory of *.yaml|*.yml|*.json, or `-` for stdin). */
export async function readManifests(spec: string, options: { readonly cwd: string; readonly stdin?: AsyncIterable<string | Buffer> }): Promise<Manifests> {
  const inputs: { label: string; text: string }[] = [];
  if (spec === '-') inputs.push({ label: '<stdin>', text: await readStdin(options.stdin) });
  else {
    for (const file of filesOf(resolve(options.cwd, spec))) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(EXIT.Usage, `-f: cannot read ${file}: ${(error as Error).message}`);
      }
      inputs.push({ label: relative(options.cwd, file) || file, text });
    }
  }
  const documents: unknown[] = [];
  const sources: ManifestSource[] = [];
  const parts: string[] = [];
  for (const { label, text } of inputs) {
    const docs = parseFile(label, text);
    sources.push({ file: label, first: documents.length, count: docs.length });
    documents.push(...docs);
    // JSON files are re-emitted as YAML so the stream is one format; YAML files are sent as written.
    parts.push(label.toLowerCase().endsWith('.json') ? docs.map((d) => stringify(d)).join('---\n') : text);
  }
  if (!documents.length) throw new CliError(EXIT.Invalid, `-f ${spec}: holds no document`);
  return { text: parts.map((p) => (p.endsWith('\n') ? p : `${p}\n`)).join('---\n'), documents, sources };
}

/** `documents[3].spec.version` → `documents[3].spec.version (b.yaml)` when several files were read. */
export function pathWithSource(path: string, sources: readonly ManifestSource[]): string {
  if (sources.length < 2) return path;
  const match = /^(?:documents|body)\[(\d+)/.exec(path);
  if (!match) return path;
  const index = Number(match[1]);
  const source = sources.find((s) => index >= s.first && index < s.first + s.count);
  return source ? `${path} (${source.file})` : path;
}
