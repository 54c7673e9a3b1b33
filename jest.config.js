/** Jest runs the TypeScript sources as native ES modules, transpiled by SWC (type-checking is `npm run typecheck`). */
export default {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  // Only test/ is searched (roots); dist/ (npm run build) holds no tests, and is never one to run or to import from.
  testPathIgnorePatterns: ['/node_modules/', '<rootDir>/dist/'],
  extensionsToTreatAsEsm: ['.ts'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  transform: {
    '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }],
  },
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  setupFiles: ['<rootDir>/test/setup/no-network.ts'],
  testTimeout: 30000,
  // Two workers on the 2-core machines of CI: most suites wait on machine processes, timers and child processes, not
  // the CPU. Measured on this machine: the whole suite 829 s with one worker (jest's default for 2 cores), 468 s with two.
  maxWorkers: 2,
  // Machine processes are detached and every suite closes its stack, but a keep-alive socket or a child's pipe can
  // outlive the last test by a few seconds; never let CI wait on one.
  forceExit: true,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.cjs'],
};
