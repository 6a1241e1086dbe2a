// End-to-end tier: test/**/*.e2e-spec.ts against built services started as real processes.
module.exports = {
  ...require('../jest.preset'),
  rootDir: require('node:path').join(__dirname, '..'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/setup/docker-engine.global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/docker-engine.global-teardown.ts',
  // One at a time: two at once (each file has its own state dir, ports and cluster slot) was not
  // yet shown to pass on a quiet machine. Longest first (test/setup/test-sequencer.js).
  maxWorkers: 1,
  testSequencer: '<rootDir>/test/setup/test-sequencer.js',
};
