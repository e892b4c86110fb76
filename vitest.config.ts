// Four projects (style.md §5): `unit` is the fast loop (no database
// servers); `integration`, `fault` and `store` (the recovery and fault tests
// again on the shared PostgreSQL decision store) share real PostgreSQL,
// MariaDB and Redis servers started once per run by
// test/harness/global-setup.ts (or given by ARBITER_TEST_*_URL). Test files isolate themselves with
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
      {
        extends: true,
        test: {
          // The recovery and fault tests again with every TM on log.store: postgres (issue #22), one
          // file at a time; the other tests run on the default file store only. tm-crash-points,
          // cluster-takeover and the nemesis run both stores themselves; log-faults is the file store's.
          name: 'store',
          include: [
            'test/integration/server/crash-recovery.test.ts',
            'test/integration/admin/admin-crash.test.ts',
            'test/integration/server/two-phase-commit.test.ts',
            'test/fault/database-faults.test.ts',
            'test/fault/graceful-stop.test.ts',
            'test/fault/lock-hold-bounds.test.ts',
            'test/fault/one-shot-tm-kill.test.ts',
            'test/fault/reconnect.test.ts',
          ],
          globalSetup,
          setupFiles: ['test/harness/store-setup.ts'],
          env: { ARBITER_TEST_LOG_STORE: 'postgres' },
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
    ],
  },
})
