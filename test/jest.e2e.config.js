// End-to-end tier: test/**/*.e2e-spec.ts against built services started as real processes.
module.exports = {
  ...require('../jest.preset'),
  rootDir: require('node:path').join(__dirname, '..'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 120000,
  maxWorkers: 1,
};
