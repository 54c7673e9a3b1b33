/**
 * The Cluster API manifest importer: `importManifests` maps Capstan and Cluster API (v1beta1/v1beta2) documents
 * onto raw Capstan Cluster documents. Pure: no I/O, no clock. See README.md for the field mapping.
 */
export { ACCOUNT_ANNOTATION, importManifests, INFRA_CLUSTER_KINDS, type ImportedCluster, type ImportResult } from './import-manifests.js';
export { SUPPORTED, type KindHandling } from './manifest.js';
export { parseGoDuration, toCapstanDuration } from './go-duration.js';
export { renderTemplate, semverCompare, TemplateUnsupportedError } from './go-template.js';
export { applyPatch, JsonPatchError, type PatchOperation } from './json-patch.js';
