/** @type {import('jest').Config} */
const workspaceSources = {
  '^@lookout/contracts$': '<rootDir>/packages/contracts/src/index.ts',
  '^@lookout/service-kit$': '<rootDir>/packages/service-kit/src/index.ts',
  '^@lookout/onnx-kit$': '<rootDir>/packages/onnx-kit/src/index.ts',
  '^@lookout/vector-index$': '<rootDir>/packages/vector-index/src/index.ts',
  '^@lookout/testkit$': '<rootDir>/packages/testkit/src/index.ts',
};

export default {
  testEnvironment: '<rootDir>/test/jest/node-environment.js',
  extensionsToTreatAsEsm: ['.ts'],
  moduleNameMapper: { ...workspaceSources, '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: { '^.+\\.ts$': ['ts-jest', { useESM: true, tsconfig: '<rootDir>/tsconfig.tests.json' }] },
  testMatch: ['<rootDir>/{packages,services,test}/**/test/**/*.test.ts', '<rootDir>/test/**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/dist/'],
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/jest/summary-reporter.js'],
  // Integration tests start real servers; running two files at once on 2 cores only adds contention.
  maxWorkers: 2,
};
