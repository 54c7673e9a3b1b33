/**
 * GET /healthz (no auth): the API is up and can reach its store.
 */
import type { Deps } from '../adapters/deps.js';
import { httpHandler, type ApiRequest, type ApiResponse } from '../middleware/http.js';

/** Answers 200 `{ status: "ok" }` when the store answers. */
export async function healthz(_request: ApiRequest, deps: Deps): Promise<ApiResponse> {
  await deps.store.getCluster('healthz-probe');
  return { status: 200, body: { status: 'ok' } };
}

export const handler = httpHandler(healthz, { auth: false });
