// A database that stalls (SIGSTOP: connections stay open, nothing answers)
// while the client library prepares the application's own connection: the
// transaction must end, rolled back, within a bound, not hang the caller.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, TransactionAbortedError, type ArbiterClient } from '../../../client/index.js'
import { createDatabase, sharedServerUrls, startPostgres, whyNotControllable, type TestServer } from '../../harness/index.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

describe.skipIf(whyNotControllable('postgres') !== undefined)('a local branch whose server stalls at prepare', () => {
  let server: TestServer
  let pgUrl: string
  let myUrl: string
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let client: ArbiterClient
  let admin: pg.Pool
  let myAdmin: mysql.Pool

  beforeAll(async () => {
    server = await startPostgres()
    pgUrl = await createDatabase(server.url, 'stall')
    myUrl = await createDatabase(sharedServerUrls().mysqlUrl, 'stall')
    admin = new pg.Pool({ connectionString: pgUrl, max: 2 })
    admin.on('error', () => undefined)
    myAdmin = mysql.createPool({ uri: myUrl, connectionLimit: 2 })
    await admin.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)')
    await myAdmin.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL) ENGINE=InnoDB')
    arbiter = await startTestArbiter(
      [
        { name: 'pg', kind: 'postgres', url: pgUrl, connectTimeoutMs: 1000 },
        { name: 'maria', kind: 'mysql', url: myUrl },
      ],
      { recovery: { intervalMs: 200, graceMs: 300 } },
    )
    client = createArbiterClient({ address: arbiter.address, defaultDeadlineMs: 1000 })
  })

  afterAll(async () => {
    client?.close()
    await server?.resume().catch(() => undefined)
    await arbiter?.stopAndClean()
    await admin?.end()
    await myAdmin?.end()
    await server?.destroy()
  })

  it('the transaction rolls back within its deadline plus one RPC deadline, and nothing of it stays prepared or committed', async () => {
    const pgConn = new pg.Client({ connectionString: pgUrl })
    pgConn.on('error', () => undefined)
    await pgConn.connect()
    const myConn = await mysql.createConnection({ uri: myUrl })
    const started = Date.now()
    let waited: number
    try {
      const outcome = await client
        .transaction(
          async (tx) => {
            await tx.enlist('pg', pgConn)
            await tx.enlist('maria', myConn)
            await pgConn.query('INSERT INTO accounts VALUES (1, 1)')
            await myConn.query('INSERT INTO accounts VALUES (1, 1)')
            await server.pause() // PostgreSQL stops answering before the prepare
          },
          { timeoutMs: 1000 },
        )
        .then(() => 'committed', (e: unknown) => e)
      waited = Date.now() - started
      expect(outcome).toBeInstanceOf(TransactionAbortedError)
      expect((outcome as Error).message).toMatch(/local branch on "pg" did not answer its prepare in time/)
    } finally {
      await server.resume()
      await myConn.end()
    }
    expect(waited).toBeLessThan(8_000) // 1 s deadline + 1 s RPC deadline, with room for a slow machine
    // The resumed server works off what was queued on the closed connection (the PREPARE), then its backend exits.
    const backend = (pgConn as unknown as { processID: number }).processID
    for (let i = 0; i < 100; i++) {
      if ((await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [backend])).rowCount === 0) break
      await new Promise((r) => setTimeout(r, 100))
    }
    // PostgreSQL may have prepared it once it resumed: no decision, so the TM's recovery rolls it back.
    for (let i = 0; i < 150; i++) {
      if ((await admin.query('SELECT 1 FROM pg_prepared_xacts WHERE database = current_database()')).rowCount === 0) break
      await new Promise((r) => setTimeout(r, 200))
    }
    expect((await admin.query('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')).rows).toEqual([])
    expect((await admin.query('SELECT id FROM accounts')).rows).toEqual([])
    const [rows] = await myAdmin.query('SELECT id FROM accounts')
    expect(rows).toEqual([])
  })
})
