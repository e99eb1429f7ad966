/**
 * Unit tests live beside the code (src/**\/*.spec.ts, and test/support/*.spec.ts for the test
 * helpers); e2e tests in test/ run over HTTP on a real PostgreSQL.
 */
const transform = { '^.+\\.(t|j)s$': ['@swc/jest'] };
// ESM-only dependencies that Node loads natively but Jest's module system cannot: compile them too.
// (@scure/base and @noble/hashes: otplib's base32 and HMAC.)
const transformIgnorePatterns = ['/node_modules/(?!(content-disposition|@scure/base|@noble/hashes)/)'];

module.exports = {
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/src', '<rootDir>/test/support'],
      testMatch: ['**/*.spec.ts'],
      transform,
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      testEnvironment: 'node',
      rootDir: __dirname,
      roots: ['<rootDir>/test'],
      testMatch: ['**/*.e2e-spec.ts'],
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/support/global-setup.ts',
      globalTeardown: '<rootDir>/test/support/global-teardown.ts',
    },
  ],
  // Two cores: one worker per core, each e2e file boots its own app on the shared test database.
  maxWorkers: 2,
  testTimeout: 60000,
};
