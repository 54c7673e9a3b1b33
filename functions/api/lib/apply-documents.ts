/**
 * The validation half of POST /v1/apply: the body's documents (Capstan and Cluster API) become cluster documents,
 * and every problem of every document, including the update rules against the stored clusters, is found before
 * anything is written.
 *
 * Why its own file: "if any document is refused, nothing from the request is stored" is this module's whole job;
 * functions/api/apply.ts only writes what it returns.
 */
import type { Deps } from '../../adapters/deps.js';
import { API_VERSION, type ClusterDocument } from '../../domain/cluster.js';
import { CapstanError, ValidationError, type Issue } from '../../domain/errors.js';
import { importManifests } from '../../domain/capi/index.js';
import { parseClusterDocument } from '../../domain/spec/index.js';
import type { ApiRequest } from '../../middleware/http.js';
import { bodyDocuments, stripServerFields } from './body.js';
import { updateIssues } from './cluster-writes.js';

/** One cluster document of the request and where it came from (`documents[i]` or `documents[i,j,…]`). */
export interface AppliedDocument {
  readonly doc: ClusterDocument;
  readonly source: string;
}

function prefixed(prefix: string, issues: readonly Issue[]): Issue[] {
  return issues.map((i) => ({ path: `${prefix}.${i.path}`, message: i.message }));
}

/**
 * The body's documents, Capstan ones without their server fields. Syntax problems of one document of several are
 * named `documents[i]`, like every other apply issue (the parser says `body[i]`), so a caller reads one numbering.
 */
export function applyDocuments(request: ApiRequest): unknown[] {
  let documents: unknown[];
  try {
    documents = bodyDocuments(request);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const renamed = error.details.map((i) => ({ path: i.path.replace(/^body\[(\d+)\]/, 'documents[$1]'), message: i.message }));
    throw new ValidationError(renamed, { unprocessable: error.status === 422 });
  }
  return documents.map((d) => ((d as { apiVersion?: unknown })?.apiVersion === API_VERSION ? stripServerFields(d) : d));
}

/** Imports and validates every document; the issues of all of them, each prefixed by its source. */
function parseAll(documents: unknown[]): { parsed: AppliedDocument[]; issues: Issue[] } {
  const imported = importManifests(documents);
  const issues: Issue[] = [];
  const parsed: AppliedDocument[] = [];
  const names = new Set<string>();
  for (const entry of imported.clusters) {
    const source = `documents[${entry.sourceIndexes.join(',')}]`;
    try {
      const doc = parseClusterDocument(entry.document);
      if (names.has(doc.metadata.name)) issues.push({ path: `${source}.metadata.name`, message: `cluster ${JSON.stringify(doc.metadata.name)} appears twice in this request` });
      names.add(doc.metadata.name);
      parsed.push({ doc, source });
    } catch (error) {
      if (error instanceof CapstanError && error.fault === 'caller') issues.push(...prefixed(source, error.details.length ? error.details : [{ path: 'document', message: error.message }]));
      else throw error;
    }
  }
  if (!imported.clusters.length && !issues.length) issues.push({ path: 'body', message: 'holds no Cluster (Capstan or Cluster API) to apply' });
  return { parsed, issues };
}

/**
 * The cluster documents to write, or a ValidationError listing every problem of the request.
 * Note: update rules are checked up front too (one read per existing cluster), so a bad second cluster never leaves
 * the first one applied. Like PUT: a well-formed document that breaks only an update rule is 422; any malformed
 * document makes it 400.
 */
export async function validateApply(deps: Deps, documents: unknown[]): Promise<AppliedDocument[]> {
  const { parsed, issues } = parseAll(documents);
  const updateProblems: Issue[] = [];
  for (const { doc, source } of parsed) {
    const existing = await deps.store.getCluster(doc.metadata.name);
    if (existing && !existing.metadata.deletionTimestamp) updateProblems.push(...prefixed(source, updateIssues(existing, doc)));
  }
  if (issues.length || updateProblems.length) throw new ValidationError([...issues, ...updateProblems], { unprocessable: !issues.length });
  return parsed;
}
