/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { target: "es2022" } }],
  },
  testTimeout: 60000,
  // Two workers even on 2 cores: several test files mostly wait on child processes (npm, tsc,
  // terraform, and the servers that tests start), so a second worker overlaps that waiting.
  maxWorkers: 2,
  // A worker that uses more memory than this after a test file is replaced by a fresh one, so
  // the cdktf and provider modules that each synth test loads do not pile up in one process.
  workerIdleMemoryLimit: "700MB",
};
