// Direct connections for tests to set up tables and check what really landed.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createDatabase } from '../harness/index.js'

export interface TestDatabases {
  readonly pgUrl: string
  readonly mysqlUrl: string
  pgQuery<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  mysqlQuery<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>
  /** Prepared branches of TM node `nodeId` left in either database (should be none when a test ends). */
  preparedLeft(nodeId: string): Promise<{ pg: string[]; mysql: string[] }>
  close(): Promise<void>
}

/** Fresh databases on the given servers, each with the same `accounts` table. */
export async function createTestDatabases(servers: { pgUrl: string; mysqlUrl: string }, prefix: string): Promise<TestDatabases> {
  const pgUrl = await createDatabase(servers.pgUrl, prefix)
  const mysqlUrl = await createDatabase(servers.mysqlUrl, prefix)
  const pgPool = new pg.Pool({ connectionString: pgUrl, max: 3 })
  const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: 3 })
  // Fault tests kill servers under these pools: an idle client's lost connection is expected, not a test failure.
  pgPool.on('error', () => undefined)
  await pgPool.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))')
  await mysqlPool.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0)) ENGINE=InnoDB')
  return {
    pgUrl,
    mysqlUrl,
    pgQuery: async <T>(sql: string, params: unknown[] = []) => (await pgPool.query(sql, params)).rows as T[],
    mysqlQuery: async <T>(sql: string, params: unknown[] = []) => (await mysqlPool.query(sql, params))[0] as T[],
    preparedLeft: async (nodeId: string) => {
      const pgRows = (await pgPool.query('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')).rows as { gid: string }[]
      // XA RECOVER is server-wide and tests share the server: keep this node's branches (gtrid "node:ULID").
      const [mysqlRows] = (await mysqlPool.query('XA RECOVER')) as unknown as [{ data: Buffer }[]]
      return {
        pg: pgRows.map((r) => r.gid),
        mysql: mysqlRows.map((r) => r.data.toString('latin1')).filter((d) => d.startsWith(`${nodeId}:`)),
      }
    },
    close: async () => {
      await pgPool.end()
      await mysqlPool.end()
    },
  }
}
