// The per-dialect fixtures of the SQL adapter conformance suite
// (sql-adapter-conformance.test.ts), and the shared-server set-up that the
// conformance suite and the dialect-specific files both use.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, expect } from 'vitest'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import { mysqlLocalBranch } from '../../../adapters/mysql/mysql-local-branch.js'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import { postgresLocalBranch } from '../../../adapters/postgres/postgres-local-branch.js'
import type {
  FinishOutcome,
  LocalBranchOps,
  PreparedBranch,
  ResourceAdapter,
  ResourceConfig,
  ResourceHealth,
  SqlValue,
  Vote,
  Xid,
} from '../../../adapters/types.js'
import { xidToMysqlLiteral, xidToPgGid } from '../../../adapters/xid/xid.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { eventually, int, newXid, str } from './adapter-test-helpers.js'

// Foreign prepared-transaction ids are server-wide (cluster-wide on PostgreSQL)
// and test files run in parallel on shared servers: unique per run.
const RUN = Math.random().toString(36).slice(2, 8)
const PG_FOREIGN_GID = `foreign-tx-${RUN}`
const MYSQL_FOREIGN_GTRID = `foreign-${RUN}`

/** A pg Client that is connected and whose 'error' events are swallowed. */
export async function pgClient(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  c.on('error', () => undefined)
  await c.connect()
  return c
}

/** A mysql2 promise connection whose 'error' events are swallowed. */
export async function mysqlConn(url: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ uri: url })
  c.on('error', () => undefined)
  return c
}

/** A plain connection for set-up and checks, whatever the driver. */
export interface SqlAdmin {
  /** The result rows (none for statements that return no rows). */
  query(sql: string, params?: readonly (string | number)[]): Promise<Record<string, unknown>[]>
  end(): Promise<void>
}

/** A local branch (LocalBranchOps) run on the driver's own connection. */
export interface LocalConn {
  start(x: Xid): Promise<void>
  prepare(x: Xid): Promise<Vote>
  commit(x: Xid): Promise<FinishOutcome>
  rollback(x: Xid): Promise<FinishOutcome>
  query(sql: string): Promise<unknown>
  end(): Promise<void>
}

function localConn<C>(conn: C, ops: LocalBranchOps<C>, resource: string, query: (sql: string) => Promise<unknown>, end: () => Promise<void>): LocalConn {
  return {
    start: (x) => ops.start(conn, x, resource),
    prepare: (x) => ops.prepare(conn, x, resource),
    commit: (x) => ops.commit(conn, x, resource),
    rollback: (x) => ops.rollback(conn, x, resource),
    query,
    end,
  }
}

/** What the recover test saw, for a dialect's own extra checks. */
export interface Recovered {
  readonly x: Xid
  readonly mine: readonly PreparedBranch[]
  readonly foreignIds: readonly string[]
  readonly health: ResourceHealth
}

/** Everything the conformance suite needs to know about one SQL dialect. */
export interface SqlDialect<A extends ResourceAdapter = ResourceAdapter> {
  /** Suite title, e.g. 'PostgresAdapter'. */
  readonly label: string
  readonly kind: 'postgres' | 'mysql'
  /** The adapter's (and local branches') resource name. */
  readonly resource: string
  /** Prefix of the conformance suite's database. */
  readonly dbPrefix: string
  serverUrl(): string
  makeAdapter(config: ResourceConfig): A
  connect(url: string): Promise<SqlAdmin>
  /** A URL for the server that listens on nothing but `port`. */
  deadUrl(port: number): string
  /** Makes `acct (id int PRIMARY KEY, balance bigint NOT NULL)` with rows 1..20 at balance 100. */
  readonly createAcct: readonly string[]
  /** The n-th (1-based) statement parameter: `$n` or `?`. */
  readonly param: (n: number) => string
  readonly newXid: () => Xid
  /** The server's spelling of an XID, as recover() reports it in rawId. */
  rawIdOf(x: Xid): string
  /**
   * Phase 2 by XID of a branch whose session was just released. MariaDB keeps
   * the branch attached until it notices the closed connection: retry a while.
   */
  afterDetach<T>(fn: () => Promise<T>): Promise<T>
  /** The server's code for a deadlock victim. */
  readonly deadlockCode: string
  /** The vote-no reason after a duplicate primary key. */
  readonly duplicateKeyReason: RegExp
  /** A read of row 11 that writes nothing (MariaDB: a locking read, still no write). */
  readonly readOnlySelect: string
  readonly typedValues: {
    readonly sql: string
    readonly params: readonly SqlValue[]
    /** Column types as reported (not asserted for MariaDB). */
    readonly columnTypes?: readonly string[]
    readonly row: readonly SqlValue[]
  }
  /** A prepared transaction that is not Arbiter's. */
  readonly foreign: {
    /** Prepares one that updates row `id` on its own connection, then closes it; returns its rawId. */
    prepare(url: string, id: number): Promise<string>
    /** How many of them the server still holds prepared. */
    count(admin: SqlAdmin): Promise<number>
    rollback(admin: SqlAdmin): Promise<void>
  }
  /** Checks beyond the common recover contract (what this server tells in addition). */
  checkRecovered?(r: Recovered): void
  openLocal(url: string): Promise<LocalConn>
}

export const postgres: SqlDialect<PostgresAdapter> = {
  label: 'PostgresAdapter',
  kind: 'postgres',
  resource: 'pg1',
  dbPrefix: 'pgadapter',
  serverUrl: () => sharedServerUrls().pgUrl,
  makeAdapter: (config) => new PostgresAdapter(config),
  async connect(url) {
    const c = await pgClient(url)
    return { query: async (sql, params) => (await c.query(sql, params && [...params])).rows, end: () => c.end() }
  },
  deadUrl: (port) => `postgres://postgres@127.0.0.1:${port}/x`,
  createAcct: ['CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL)', 'INSERT INTO acct SELECT g, 100 FROM generate_series(1, 20) g'],
  param: (n) => `$${n}`,
  newXid: () => newXid('pgtest'),
  rawIdOf: xidToPgGid,
  afterDetach: (fn) => fn(),
  deadlockCode: '40P01',
  duplicateKeyReason: /duplicate key/,
  readOnlySelect: 'SELECT * FROM acct WHERE id = 11',
  typedValues: {
    sql:
      "SELECT 9007199254740993::int8 AS i, 1.5::float8 AS d, 12.50::numeric AS n, true AS b, 'x'::text AS t, '\\x00ff'::bytea AS y, " +
      "'2024-01-02T03:04:05.678Z'::timestamptz AS ts, '{\"a\":1}'::jsonb AS j, NULL::int AS z, $1::int8 AS p, $2::text AS q",
    params: [int(42), str('hé')],
    columnTypes: ['int8', 'float8', 'numeric', 'bool', 'text', 'bytea', 'timestamptz', 'jsonb', 'int4', 'int8', 'text'],
    row: [
      { kind: 'int', value: 9007199254740993n },
      { kind: 'double', value: 1.5 },
      { kind: 'decimal', value: '12.50' },
      { kind: 'bool', value: true },
      { kind: 'string', value: 'x' },
      { kind: 'bytes', value: Buffer.from([0, 255]) },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.678Z') },
      { kind: 'json', value: '{"a": 1}' },
      { kind: 'null' },
      { kind: 'int', value: 42n },
      { kind: 'string', value: 'hé' },
    ],
  },
  foreign: {
    async prepare(url, id) {
      const c = await pgClient(url)
      await c.query('BEGIN')
      await c.query(`UPDATE acct SET balance = balance + 1 WHERE id = ${id}`)
      await c.query(`PREPARE TRANSACTION '${PG_FOREIGN_GID}'`)
      await c.end()
      return PG_FOREIGN_GID
    },
    count: async (admin) => (await admin.query(`SELECT gid FROM pg_prepared_xacts WHERE gid = '${PG_FOREIGN_GID}'`)).length,
    rollback: async (admin) => {
      await admin.query(`ROLLBACK PREPARED '${PG_FOREIGN_GID}'`)
    },
  },
  checkRecovered({ mine, foreignIds, health }) {
    // pg_prepared_xacts tells when; listForeign sees this database only; headroom from max_prepared_transactions
    expect(mine.every((b) => b.preparedAt instanceof Date)).toBe(true)
    expect(foreignIds).toEqual([PG_FOREIGN_GID])
    expect(health.preparedHeadroom).toBeLessThanOrEqual(98)
  },
  async openLocal(url) {
    const c = await pgClient(url)
    return localConn(c, postgresLocalBranch, 'pg1', (sql) => c.query(sql), () => c.end())
  },
}

export const mariadb: SqlDialect<MysqlAdapter> = {
  label: 'MysqlAdapter on MariaDB',
  kind: 'mysql',
  resource: 'my1',
  dbPrefix: 'myadapter',
  serverUrl: () => sharedServerUrls().mysqlUrl,
  makeAdapter: (config) => new MysqlAdapter(config),
  async connect(url) {
    const c = await mysqlConn(url)
    return {
      async query(sql, params) {
        const [rows] = await c.query(sql, params && [...params])
        return Array.isArray(rows) ? (rows as Record<string, unknown>[]) : []
      },
      end: () => c.end(),
    }
  },
  deadUrl: (port) => `mysql://root@127.0.0.1:${port}/x`,
  createAcct: [
    'CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL) ENGINE=InnoDB',
    'INSERT INTO acct WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20) SELECT n, 100 FROM g',
  ],
  param: () => '?',
  newXid: () => newXid('mytest'),
  rawIdOf: xidToMysqlLiteral,
  afterDetach: (fn) => eventually(fn),
  deadlockCode: '1213',
  duplicateKeyReason: /Duplicate entry/,
  readOnlySelect: 'SELECT * FROM acct WHERE id = 11 FOR UPDATE',
  typedValues: {
    sql:
      "SELECT CAST(9007199254740993 AS SIGNED) AS i, CAST(1.5 AS DOUBLE) AS d, CAST(12.50 AS DECIMAL(10,2)) AS n, 'x' AS t, X'00ff' AS y, " +
      "CAST('2024-01-02 03:04:05.678' AS DATETIME(3)) AS ts, NULL AS z, ? AS p",
    params: [{ kind: 'int', value: 9007199254740995n }],
    row: [
      { kind: 'int', value: 9007199254740993n },
      { kind: 'double', value: 1.5 },
      { kind: 'decimal', value: '12.50' },
      { kind: 'string', value: 'x' },
      { kind: 'bytes', value: Buffer.from([0, 255]) },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.678Z') },
      { kind: 'null' },
      { kind: 'int', value: 9007199254740995n },
    ],
  },
  foreign: {
    async prepare(url, id) {
      const c = await mysqlConn(url)
      await c.query(`XA START '${MYSQL_FOREIGN_GTRID}',''`)
      await c.query(`UPDATE acct SET balance = balance + 1 WHERE id = ${id}`)
      await c.query(`XA END '${MYSQL_FOREIGN_GTRID}',''`)
      await c.query(`XA PREPARE '${MYSQL_FOREIGN_GTRID}',''`)
      await c.end()
      return `X'${Buffer.from(MYSQL_FOREIGN_GTRID).toString('hex')}',X'',1`
    },
    // XA RECOVER is server-wide and other test files prepare foreign branches too: count only this one
    count: async (admin) =>
      (await admin.query('XA RECOVER')).filter((r) => Number(r.formatID) === 1 && Buffer.from(r.data as Buffer).toString() === MYSQL_FOREIGN_GTRID).length,
    rollback: async (admin) => {
      await admin.query(`XA ROLLBACK '${MYSQL_FOREIGN_GTRID}',''`)
    },
  },
  async openLocal(url) {
    const c = await mysqlConn(url)
    return localConn(c, mysqlLocalBranch, 'my1', (sql) => c.query(sql), () => c.end())
  },
}

/** The shared-server set-up a test file reads, filled in by beforeAll. */
export interface SqlAdapterContext<A extends ResourceAdapter> {
  readonly url: string
  readonly adapter: A
  readonly admin: SqlAdmin
  /** Row `id`'s balance, read outside any branch. */
  balance(id: number): Promise<number>
}

/**
 * Registers beforeAll/afterAll that make a database on the dialect's shared
 * server with the `acct` table, and an adapter (pool of 4) on it.
 */
export function useSqlAdapter<A extends ResourceAdapter>(d: SqlDialect<A>, dbPrefix: string): SqlAdapterContext<A> {
  let url: string | undefined
  let adapter: A | undefined
  let admin: SqlAdmin | undefined
  const ready = <T>(v: T | undefined): T => {
    if (v === undefined) throw new Error('useSqlAdapter: beforeAll has not run')
    return v
  }
  beforeAll(async () => {
    url = await createDatabase(d.serverUrl(), dbPrefix)
    admin = await d.connect(url)
    for (const sql of d.createAcct) await admin.query(sql)
    adapter = d.makeAdapter({ name: d.resource, kind: d.kind, url, poolSize: 4 })
    await adapter.init()
  })
  afterAll(async () => {
    await adapter?.close()
    await admin?.end()
  })
  return {
    get url() {
      return ready(url)
    },
    get adapter() {
      return ready(adapter)
    },
    get admin() {
      return ready(admin)
    },
    async balance(id) {
      const rows = await ready(admin).query(`SELECT balance FROM acct WHERE id = ${d.param(1)}`, [id])
      return Number(rows[0]!.balance)
    },
  }
}
