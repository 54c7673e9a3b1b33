/**
 * POST /v1/apply: multi-document YAML of Capstan and Cluster API documents. Everything is validated first;
 * if any document is refused, nothing from the request is stored.
 */
import type { Deps } from '../adapters/deps.js';
import type { ClusterDocument } from '../domain/cluster.js';
import { CapstanError, ValidationError, type Issue } from '../domain/errors.js';
import { importManifests } from '../domain/capi/index.js';
import { parseClusterDocument } from '../domain/spec/index.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { bodyDocuments, isDryRun, stripServerFields } from './lib/body.js';
import { updateIssues, writeClusterDocument, type WriteResult } from './lib/cluster-writes.js';

function prefixed(prefix: string, issues: readonly Issue[]): Issue[] {
  return issues.map((i) => ({ path: `${prefix}.${i.path}`, message: i.message }));
}

/**
 * The body's documents. Syntax problems of one document of several are named `documents[i]`, like every other
 * apply issue (the parser says `body[i]`), so a caller reads one numbering.
 */
function parseDocuments(request: ApiRequest): unknown[] {
  try {
    return bodyDocuments(request);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const renamed = error.details.map((i) => ({ path: i.path.replace(/^body\[(\d+)\]/, 'documents[$1]'), message: i.message }));
    throw new ValidationError(renamed, { unprocessable: error.status === 422 });
  }
}

/** Validates every document, then writes each cluster; answers `{ applied: [{ name, action }] }`. */
export async function apply(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const documents = parseDocuments(request).map((d) => ((d as { apiVersion?: unknown })?.apiVersion === 'capstan.dev/v1alpha1' ? stripServerFields(d) : d));
  const imported = importManifests(documents);
  const issues: Issue[] = [];
  const parsed: { doc: ClusterDocument; source: string }[] = [];
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
  // Update rules are checked up front too, so a bad second cluster never leaves the first one applied.
  const updateProblems: Issue[] = [];
  for (const { doc, source } of parsed) {
    const existing = await deps.store.getCluster(doc.metadata.name);
    if (existing && !existing.metadata.deletionTimestamp) updateProblems.push(...prefixed(source, updateIssues(existing, doc)));
  }
  // Like PUT: a well-formed document that breaks only an update rule is 422; any malformed document makes it 400.
  if (issues.length || updateProblems.length) throw new ValidationError([...issues, ...updateProblems], { unprocessable: !issues.length });
  const dryRun = isDryRun(request);
  const results: (WriteResult & { name: string })[] = [];
  for (const { doc } of parsed) results.push({ name: doc.metadata.name, ...(await writeClusterDocument(deps, request.principal, doc, { dryRun })) });
  return {
    status: 200,
    body: {
      ...(dryRun ? { dryRun: true } : {}),
      applied: results.map((r) => ({ name: r.name, action: r.action, generation: r.cluster.metadata.generation, ...(r.plan ? { plan: r.plan } : {}) })),
    },
  };
}

export const handler = httpHandler(apply);
