/**
 * POST /v1/apply: multi-document YAML of Capstan and Cluster API documents. Everything is validated first
 * (lib/apply-documents.ts); if any document is refused, nothing from the request is stored.
 */
import type { Deps } from '../adapters/deps.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';
import { applyDocuments, validateApply } from './lib/apply-documents.js';
import { isDryRun } from './lib/body.js';
import { writeClusterDocument, type WriteResult } from './lib/cluster-writes.js';

/** Validates every document, then writes each cluster; answers `{ applied: [{ name, action }] }`. */
export async function apply(request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  const parsed = await validateApply(deps, applyDocuments(request));
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
