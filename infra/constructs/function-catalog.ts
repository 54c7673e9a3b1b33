/**
 * The function catalog's former home, kept so that existing importers (tests, the library entry) keep working: the
 * catalog now lives in infra/catalog/, where both hostings (this folder's construct and infra/local/) read it.
 */
export * from '../catalog/functions.js';
export * from '../catalog/names.js';
