// Integration tier: *.integration-spec.ts against real components (etcd, processes, ...)
// that each test file starts through @wharf/testing.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'integration',
  testMatch: ['<rootDir>/{libs,services,console,proto}/**/*.integration-spec.ts'],
  testTimeout: 60000,
  globalSetup: '<rootDir>/test/setup/docker-engine.global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/docker-engine.global-teardown.ts',
  maxWorkers: 2,
  // Longest files first, from a checked-in record where jest has no durations of its own (a clean clone).
  testSequencer: '<rootDir>/test/setup/test-sequencer.js',
};
