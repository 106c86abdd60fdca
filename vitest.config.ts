import { defineConfig } from 'vitest/config';

// Two projects: unit tests run two files at a time; E2E tests drive the lab (network namespaces, root)
// and run one file at a time because the machine has 2 cores and each lab starts several processes.
// Vitest's default for the unit project would be one worker on 2 cores (CPUs - 1): the unit files spend
// much of their time waiting on the processes they start, so two at a time take ~half the wall time.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'node_modules/**', 'dist/**'],
          testTimeout: 30_000,
          hookTimeout: 30_000,
          pool: 'forks',
          maxWorkers: 2,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
          pool: 'forks',
          fileParallelism: false,
        },
      },
    ],
  },
});
