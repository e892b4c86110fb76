// setupFiles of vitest's 'store' project: the tests it runs (recovery and
// fault tests) start their TMs on log.store: postgres, in the database
// global-setup.ts created (read by testConfig() in test/helpers/test-arbiter.ts).
import { inject } from 'vitest'

process.env.ARBITER_TEST_STORE_URL = inject('storeUrl')
