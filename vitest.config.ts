// Three projects (style.md §5): `unit` is the fast loop (no database
// servers); `integration` and `fault` share real PostgreSQL, MariaDB and
// Redis servers started once per run by test/harness/global-setup.ts (or
// given by ARBITER_TEST_*_URL). Test files isolate themselves with
// createDatabase() from test/harness.
import { defineConfig } from 'vitest/config'

const globalSetup = ['test/harness/global-setup.ts']

export default defineConfig({
  test: {
    // The machine has 2 cores; database servers need some of them too.
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
          hookTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup,
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'fault',
          include: ['test/fault/**/*.test.ts'],
          globalSetup,
          testTimeout: 180_000,
          hookTimeout: 180_000,
          // Fault tests kill and stall servers and measure recovery: one file at a time.
          fileParallelism: false,
        },
      },
    ],
  },
})
