// While an enlisted connection holds a local branch, reset(), changeUser(),
// release() and end() are refused (issue #19.2), on real PostgreSQL and
// MariaDB. The case that lost data: mysql2's reset() between the client's XA
// PREPARE and its XA COMMIT made MariaDB drop the prepared branch while XA
// COMMIT still answered OK, and transaction() resolved with the MariaDB write
// missing.
import pg from 'pg'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { HeuristicOutcomeError, IllegalStateError, InvalidArgumentError, type ArbiterClient } from '../../../client/index.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import type { TestDatabases } from '../../helpers/databases.js'
import type { startTestArbiter } from '../../helpers/test-arbiter.js'
import { balancesOf, closeClientEnv, openAccount, openClientEnv } from './client-env.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let pgPool: pg.Pool
let myPool: mysql.Pool
let nextId = 500
let id: number

beforeAll(async () => {
  ;({ dbs, arbiter, client, pgPool, myPool } = await openClientEnv('guard'))
})
afterAll(() => closeClientEnv({ dbs, arbiter, client, pgPool, myPool }))
beforeEach(async () => {
  id = nextId++
  await openAccount(dbs, id)
})

type CallbackQuery = (options: unknown, callback: (error: Error | null, rows: unknown) => void) => unknown

/** Runs `hook` once, right after the client's own XA PREPARE answered and before its XA COMMIT is queued. */
function afterXaPrepare(conn: mysql.PoolConnection, hook: () => void): void {
  const core = (conn as unknown as { connection: { query: CallbackQuery } }).connection
  const query = core.query.bind(core)
  let fired = false
  core.query = (options, callback) =>
    query(options, (error, rows) => {
      const sql = typeof options === 'string' ? options : (options as { sql: string }).sql
      if (!error && !fired && /^XA PREPARE/.test(sql)) {
        fired = true
        delete (core as { query?: unknown }).query // back to the prototype's
        hook()
      }
      callback(error, rows)
    })
}

describe('an enlisted connection is guarded while it holds a branch', () => {
  it('MariaDB: reset() between the prepare and the commit is refused; the transfer commits on both', async () => {
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    let resetOutcome: unknown = 'not called'
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await tx.enlist('maria', myConn)
        await pgConn.query('UPDATE accounts SET balance = balance - 10 WHERE id = $1', [id])
        await myConn.query('UPDATE accounts SET balance = balance + 10 WHERE id = ?', [id])
        afterXaPrepare(myConn, () => {
          resetOutcome = myConn.reset().then(
            () => 'reset ran',
            (e: unknown) => e,
          )
        })
      })
      expect(await resetOutcome).toBeInstanceOf(IllegalStateError)
      expect(String(await resetOutcome)).toMatch(/reset\(\) is refused while this connection holds a local branch/)
      expect(await balancesOf(dbs, id)).toEqual({ pg: 90, maria: 10 })
      // Once transaction() has settled the connection is the application's again.
      await myConn.reset()
    } finally {
      pgConn.release()
      myConn.release()
    }
  })

  it('MariaDB: reset(), changeUser(), end() and release() inside the callback are refused with IllegalStateError; the transaction still commits', async () => {
    const myConn = await myPool.getConnection()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('maria', myConn)
        await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
        await expect(myConn.reset()).rejects.toBeInstanceOf(IllegalStateError)
        await expect(myConn.changeUser({ user: 'root' })).rejects.toBeInstanceOf(IllegalStateError)
        await expect(myConn.end()).rejects.toBeInstanceOf(IllegalStateError)
        expect(() => myConn.release()).toThrow(IllegalStateError)
      })
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 5 })
      const [rows] = await myConn.query('SELECT @@in_transaction AS t')
      expect(rows).toEqual([{ t: 0 }])
    } finally {
      myConn.release()
    }
  })

  it("MariaDB: the pool's own releaseConnection (promise pool and the callback pool under it) cannot hand the branch to the pool's next user", async () => {
    const myConn = await myPool.getConnection()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('maria', myConn)
        await myConn.query('UPDATE accounts SET balance = balance + 7 WHERE id = ?', [id])
        expect(() => myPool.releaseConnection(myConn)).toThrow(IllegalStateError)
        const base = (myPool as unknown as { pool: { releaseConnection(c: unknown): void } }).pool
        expect(() => base.releaseConnection((myConn as unknown as { connection: unknown }).connection)).toThrow(IllegalStateError)
        // Nobody else got the session meanwhile: a second checkout is another connection.
        const other = await myPool.getConnection()
        expect(other.threadId).not.toBe(myConn.threadId)
        const [rows] = await other.query('SELECT @@in_transaction AS t')
        expect(rows).toEqual([{ t: 0 }])
        other.release()
      })
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 7 })
    } finally {
      myConn.release()
    }
    // Once transaction() settled, the pool takes it back as usual.
    const again = await myPool.getConnection()
    again.release()
  })

  it('PostgreSQL: release() and end() are refused; release(err) (which destroys the client) is let through, and the outcome told is the truth', async () => {
    const pgConn = await pgPool.connect()
    await client.transaction(async (tx) => {
      await tx.enlist('pg', pgConn)
      await pgConn.query('UPDATE accounts SET balance = balance - 3 WHERE id = $1', [id])
      expect(() => pgConn.release()).toThrow(IllegalStateError)
      await expect(pgConn.end()).rejects.toBeInstanceOf(IllegalStateError)
    })
    expect(await balancesOf(dbs, id)).toEqual({ pg: 97, maria: 0 })
    pgConn.release()

    const other = await pgPool.connect()
    const outcome = await client
      .transaction(async (tx) => {
        await tx.enlist('pg', other)
        await other.query('UPDATE accounts SET balance = balance - 4 WHERE id = $1', [id])
        other.release(new Error('broken'))
      })
      .then(
        () => 'committed',
        (e: unknown) => e,
      )
    // pg may still run what was queued before the socket closes: whichever happened, the caller is told it.
    expect(await balancesOf(dbs, id)).toEqual({ pg: outcome === 'committed' ? 93 : 97, maria: 0 })
  })

  it("PostgreSQL: the application's own COMMIT on its enlisted connection is a mixed outcome (HeuristicOutcomeError), never 'rolled back'", async () => {
    // Found by hostile testing: told TransactionAbortedError (not retryable) while the debit its COMMIT committed stayed.
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    try {
      const outcome = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.enlist('maria', myConn)
          await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
          await pgConn.query('COMMIT') // documented as not to be done: the branch escapes
          await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
        })
        .then(
          () => 'committed',
          (e: unknown) => e,
        )
      expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
      expect((outcome as Error).message).toMatch(/mixed outcome: the local branch on "pg" was ended by a statement of the application's own/)
      expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 }) // what the caller was warned of
    } finally {
      pgConn.release()
      myConn.release()
    }
  })

  it('a MariaDB connection enlisted as the PostgreSQL resource is refused before any decision, and its branch rolled back on it', async () => {
    // Found by hostile testing: told COMMITTED while the MariaDB branch stayed prepared for good (the TM's
    // COMMIT PREPARED by XID on PostgreSQL found nothing and took that as done).
    const myConn = await myPool.getConnection()
    let gtrid = ''
    try {
      const outcome = await client
        .transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.enlist('pg', myConn)
          await myConn.query('UPDATE accounts SET balance = balance + 7 WHERE id = ?', [id])
        })
        .then(
          () => 'committed',
          (e: unknown) => e,
        )
      expect(outcome).toBeInstanceOf(InvalidArgumentError)
      expect((outcome as Error).message).toMatch(/prepared on a mysql connection, but resource "pg" is postgres/)
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
      // Nothing of this transaction is left prepared on MariaDB (XA RECOVER is server-wide: other tests' are there too).
      const [xa] = await myConn.query('XA RECOVER')
      expect((xa as { data: Buffer | string }[]).filter((row) => String(row.data).startsWith(gtrid))).toEqual([])
    } finally {
      myConn.release()
    }
  })

  it('a PostgreSQL connection to another database than the resource reaches is refused before any decision, and its branch rolled back on it', async () => {
    // Found by hostile testing: a resource url without its database (PostgreSQL then takes "postgres") beside an
    // application connection to the right one committed while the application lived; had it died at commit, phase 2
    // by XID would have retried for good ("prepared transaction belongs to another database"), locks held.
    const other = await createDatabase(sharedServerUrls().pgUrl, 'guardother')
    const conn = new pg.Client({ connectionString: other })
    await conn.connect()
    let gtrid = ''
    try {
      await conn.query('CREATE TABLE accounts (id int PRIMARY KEY, balance bigint NOT NULL)')
      await conn.query('INSERT INTO accounts VALUES ($1, 100)', [id])
      const outcome = await client
        .transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.enlist('pg', conn)
          await conn.query('UPDATE accounts SET balance = balance - 7 WHERE id = $1', [id])
          await tx.execute('maria', 'UPDATE accounts SET balance = balance + 7 WHERE id = ?', [id])
        })
        .then(
          () => 'committed',
          (e: unknown) => e,
        )
      expect(outcome).toBeInstanceOf(InvalidArgumentError)
      expect((outcome as Error).message).toMatch(/was prepared on postgres:\d+\/guardother_\w+, but resource "pg" reaches postgres:\d+\/guard_\w+: enlist a connection/)
      expect((await conn.query('SELECT balance FROM accounts WHERE id = $1', [id])).rows).toEqual([{ balance: '100' }])
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
      expect((await conn.query('SELECT gid FROM pg_prepared_xacts WHERE gid LIKE $1', [`%${gtrid}%`])).rows).toEqual([])
      // The same connection, enlisted again: still refused (its identity was read once, with its first BEGIN).
      const again = await client.transaction(async (tx) => {
        await tx.enlist('pg', conn)
        await conn.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
      }).then(() => 'committed', (e: unknown) => e)
      expect(again).toBeInstanceOf(InvalidArgumentError)
    } finally {
      await conn.end()
    }
  })

  it('a role that may not call pg_control_system() still enlists and commits (its identity is not told, so not checked)', async () => {
    // Found by review: the identity was read inside the branch's BEGIN, and PostgreSQL refuses a function the role may
    // not call when the query starts, whatever a CASE around it says: every local branch of such a role failed.
    const role = `arb_nopriv_${Math.random().toString(36).slice(2, 8)}`
    await dbs.pgQuery('REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC') // in this test's database only
    await dbs.pgQuery(`CREATE ROLE ${role} LOGIN PASSWORD 'nopriv-pw'`)
    await dbs.pgQuery(`GRANT SELECT, UPDATE ON accounts TO ${role}`)
    const url = new URL(dbs.pgUrl)
    url.username = role
    url.password = 'nopriv-pw'
    const conn = new pg.Client({ connectionString: url.toString() })
    await conn.connect()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('pg', conn)
        await conn.query('UPDATE accounts SET balance = balance - 3 WHERE id = $1', [id])
        await tx.execute('maria', 'UPDATE accounts SET balance = balance + 3 WHERE id = ?', [id])
      })
      expect(await balancesOf(dbs, id)).toEqual({ pg: 97, maria: 3 })
    } finally {
      await conn.end()
      await dbs.pgQuery('GRANT EXECUTE ON FUNCTION pg_control_system() TO PUBLIC')
    }
  })
})
