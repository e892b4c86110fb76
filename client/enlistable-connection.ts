// The connections tx.enlist() accepts, as the smallest structural shapes the
// client needs (style.md §4: KY's small structural pool type "to not have a
// dependency to it"). Declared here rather than taken from adapters/ so that
// the client's public declarations import neither `pg` nor `mysql2`: a strict
// TypeScript application type-checks against `arbiter-tm/client` without
// @types/pg, and its real pg Client/PoolClient or mysql2/promise
// Connection/PoolConnection still fits (test/unit/client/public-api.test.ts).
// local-branches.ts hands these to the adapters' session-side steps, whose
// PgClientLike / MysqlConnectionLike must accept them: tsc checks that there.

/** The part of a pg `Client` / `PoolClient` the client uses (pg's QueryConfig and QueryResult, narrowed). */
export interface EnlistablePgClient {
  query(config: string | { text: string; values?: unknown[]; rowMode?: 'array'; query_timeout?: number }): Promise<{
    command: string
    rowCount: number | null
    rows: unknown[]
  }>
  /** 'I' idle, 'T' in a block, 'E' in an aborted block (pg ≥ 8.11). */
  getTransactionStatus?(): string | null
  escapeLiteral?(str: string): string
}

/** The part of a mysql2/promise `Connection` / `PoolConnection` the client uses. */
export interface EnlistableMysqlConnection {
  query(options: { sql: string; values?: unknown; rowsAsArray?: boolean; timeout?: number }): Promise<[unknown, unknown]>
  /** mysql2/promise keeps the callback-API connection here at run time. */
  readonly connection?: unknown
}

/** A connection tx.enlist() accepts: a pg Client/PoolClient or a mysql2/promise Connection/PoolConnection. */
export type EnlistableConnection = EnlistablePgClient | EnlistableMysqlConnection
