// The real-server test harness: throwaway PostgreSQL, MariaDB and Redis
// servers (or env URLs), per-test databases, and the run's shared servers.
// Used by integration and fault tests, the demo and the benchmark.
export { HarnessStartError, HarnessUnsupportedError, ENV_URL, type ServerKind, type TestServer } from './types.js'
export { startPostgres, type PostgresOptions } from './postgres.js'
export { startMariadb, type MariadbOptions } from './mariadb.js'
export { startRedis, type RedisOptions } from './redis.js'
export type { StartOptions } from './managed.js'
export { postgresFromEnvOrStart, mariadbFromEnvOrStart, redisFromEnvOrStart, whyNotControllable, envUrl } from './external.js'
export { createDatabase, ping } from './database.js'
export { sharedServerUrls } from './shared.js'
