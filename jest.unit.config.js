// Unit tier: *.spec.ts beside the code; fakes allowed, no real components.
module.exports = {
  ...require('./jest.preset'),
  displayName: 'unit',
  testMatch: ['<rootDir>/{libs,services,console}/**/src/**/*.spec.ts', '<rootDir>/test/**/*.spec.ts'],
};
