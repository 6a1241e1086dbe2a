// End-to-end tier: test/**/*.e2e-spec.ts against built services started as real processes.
module.exports = {
  ...require('../jest.preset'),
  rootDir: require('node:path').join(__dirname, '..'),
  displayName: 'e2e',
  testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
  testTimeout: 120000,
  globalSetup: '<rootDir>/test/setup/docker-engine.global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/docker-engine.global-teardown.ts',
  // Two at a time: every file has its own state dir, ports, data-center name and cluster slot,
  // and a file spends much of its time waiting on what it started (pods, rollouts, builds).
  // Longest first (test/setup/test-sequencer.js).
  maxWorkers: 2,
  testSequencer: '<rootDir>/test/setup/test-sequencer.js',
};
