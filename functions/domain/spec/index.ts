/**
 * The Cluster spec: parsing request bodies, validating and defaulting documents, update rules, merge patch, and the
 * canonical form. Pure domain code: no I/O, no clock.
 */
export { decodeUtf8Strict, parseBodyDocuments, bodyFormat, hostileValueIssues, JSON_MEDIA_TYPES, YAML_MEDIA_TYPES, MAX_DEPTH, MAX_ALIAS_COUNT, MAX_DOCUMENTS } from './documents.js';
export { parseClusterDocument, clusterDocumentJsonSchema, clusterDocumentSchema, CLUSTER_DEFAULTS, CLUSTER_LIMITS, poolSkewIssues } from './cluster-spec.js';
export { validateClusterUpdate } from './update.js';
export { mergePatch } from './merge-patch.js';
export { canonicalSpecJson, canonicalJson } from './canonical.js';
export { parseCidr, cidrsOverlap, formatCidr, type Ipv4Cidr } from './cidr.js';
