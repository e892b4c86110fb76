// What the client tests share: fresh databases with an `accounts` table, a TM
// on them ('pg' and 'maria'), a client, and the application's own pools.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient, type ArbiterClient, type ArbiterClientOptions } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

export interface ClientEnv {
  readonly dbs: TestDatabases
  readonly arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  readonly client: ArbiterClient
  readonly pgPool: pg.Pool
  readonly myPool: mysql.Pool
}

export async function openClientEnv(prefix: string, clientOptions: Partial<ArbiterClientOptions> = {}): Promise<ClientEnv> {
  const dbs = await createTestDatabases(sharedServerUrls(), prefix)
  const arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
  return {
    dbs,
    arbiter,
    client: createArbiterClient({ address: arbiter.address, ...clientOptions }),
    pgPool: new pg.Pool({ connectionString: dbs.pgUrl, max: 4 }),
    myPool: mysql.createPool({ uri: dbs.mysqlUrl, connectionLimit: 4 }),
  }
}

export async function closeClientEnv(env: Partial<ClientEnv>): Promise<void> {
  env.client?.close()
  await env.pgPool?.end()
  await env.myPool?.end()
  await env.arbiter?.stopAndClean()
  await env.dbs?.close()
}

/** An account `id` with 100 in PostgreSQL and 0 in MariaDB. */
export async function openAccount(dbs: TestDatabases, id: number): Promise<void> {
  await dbs.pgQuery('INSERT INTO accounts VALUES ($1, 100)', [id])
  await dbs.mysqlQuery('INSERT INTO accounts VALUES (?, 0)', [id])
}

/** The account's balance in each database. */
export async function balancesOf(dbs: TestDatabases, accountId: number): Promise<{ pg: number; maria: number }> {
  const [p] = await dbs.pgQuery<{ balance: string }>('SELECT balance FROM accounts WHERE id = $1', [accountId])
  const [m] = await dbs.mysqlQuery<{ balance: number }>('SELECT balance FROM accounts WHERE id = ?', [accountId])
  return { pg: Number(p!.balance), maria: Number(m!.balance) }
}
