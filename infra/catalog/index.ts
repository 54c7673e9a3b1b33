/**
 * The function catalog (functions.ts), its route table (routes.ts) and the names the stacks share (names.ts): one
 * import for the CDK construct, the stacks, the local host and the OpenAPI builder.
 */
export * from './functions.js';
export * from './names.js';
export * from './routes.js';
