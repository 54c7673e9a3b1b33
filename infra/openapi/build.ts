/**
 * The OpenAPI 3.1 document of Capstan's HTTP API, built from the route table and the spec's own schema, so the
 * document cannot drift from the code: `npm run openapi` writes docs/openapi.json, and a test fails when the
 * committed file differs from what this builds (and validates live responses against it). The schemas are in
 * components.ts, the operations in paths.ts; the routes are the function catalog's.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ROUTES } from '../catalog/index.js';
import { componentSchemas, type Schema } from './components.js';
import { pathOperations } from './paths.js';

/** Builds the OpenAPI document. */
export function buildOpenApi(): Schema {
  const schemas = componentSchemas();
  const ops = pathOperations();
  for (const route of ROUTES) {
    if (!ops[route.resource]?.[route.method.toLowerCase()]) throw new Error(`openapi: route ${route.method} ${route.resource} is not documented`);
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Capstan API',
      version: '0.1.0',
      description: 'Create, upgrade, repair, scale and delete Kubernetes clusters. On AWS every route but /healthz and machine callbacks is signed with SigV4 (IAM); locally it takes `Authorization: Bearer <token>`.',
    },
    servers: [{ url: 'http://127.0.0.1:7070', description: 'local control plane (npm start)' }],
    security: [{ sigv4: [] }, { bearer: [] }],
    paths: ops,
    components: {
      schemas,
      securitySchemes: {
        sigv4: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'AWS Signature Version 4 (API Gateway IAM authorization).' },
        bearer: { type: 'http', scheme: 'bearer', description: 'Local mode: the token in $CAPSTAN_HOME/token.' },
        machineToken: { type: 'http', scheme: 'bearer', description: 'One-time, machine-scoped token handed to the machine at boot.' },
      },
    },
  };
}

/** Where `npm run openapi` writes the document (committed; test/integration/openapi.test.ts compares it). */
export const OPENAPI_PATH = fileURLToPath(new URL('../../docs/openapi.json', import.meta.url));

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(OPENAPI_PATH, `${JSON.stringify(buildOpenApi(), null, 2)}\n`);
  process.stdout.write(`wrote ${OPENAPI_PATH}\n`);
}
