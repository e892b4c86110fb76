// The adapters' public surface. Explicit named exports only.

// ── End users (the client library's local branches, applications) ─────────
export { postgresLocalBranch } from './postgres/postgres-local-branch.js'
export type { PgClientLike } from './postgres/postgres-local-branch.js'
export { mysqlLocalBranch } from './mysql/mysql-local-branch.js'
export type { MysqlConnectionLike } from './mysql/mysql-local-branch.js'
export {
  ARBITER_FORMAT_ID,
  XidError,
  makeXid,
  newGtrid,
  parseGtrid,
  xidEquals,
  xidKey,
  xidToString,
} from './xid/xid.js'
export { AdapterError, BranchEscapedError } from './types.js'
export type { ErrorClass, FinishOutcome, LocalBranchOps, LocalBranchOptions, SqlValue, Vote, Xid } from './types.js'

// ── Integrators (the coordinator, tools, tests) ────────────────────────────
export {
  BQUAL_MAX_BYTES,
  GTRID_MAX_BYTES,
  assertXid,
  decodeMysqlRecoverRow,
  decodePgGid,
  isArbiterXid,
  mysqlRecoverRowRawId,
  mysqlRecoverRowToXid,
  pgGidToXid,
  xidFromParts,
  xidToMysqlLiteral,
  xidToPgGid,
} from './xid/xid.js'
export type { MysqlRecoverRow } from './xid/xid.js'
export { classifyPgError } from './errors/classify-pg.js'
export { classifyMysqlError } from './errors/classify-mysql.js'
export { classifyRedisError } from './errors/classify-redis.js'
export { PostgresAdapter } from './postgres/postgres-adapter.js'
export type { PostgresAdapterOptions } from './postgres/postgres-adapter.js'
export { MysqlAdapter } from './mysql/mysql-adapter.js'
export type { MysqlAdapterOptions, MysqlServerInfo } from './mysql/mysql-adapter.js'
export { RedisAdapter } from './redis/redis-adapter.js'
export type { RedisAdapterOptions } from './redis/redis-adapter.js'
export { createAdapter } from './create-adapter.js'
export type {
  BeginOptions,
  BranchSession,
  ColumnInfo,
  ExecuteOptions,
  ForeignPreparedBranch,
  PreparedBranch,
  QueryResult,
  ResourceAdapter,
  ResourceConfig,
  ResourceHealth,
  ResourceKind,
} from './types.js'
