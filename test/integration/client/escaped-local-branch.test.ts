// A local PostgreSQL branch the application ends itself (COMMIT or ROLLBACK
// on its enlisted connection) is never told as rolled back: its writes may be
// committed while the rest rolls back. The class, not one example: the
// application may then begin another block on the same connection (which
// must not be prepared as if it were the branch), its callback may throw
// afterwards, or the TM may roll the transaction back meanwhile. Each ends in
// HeuristicOutcomeError, "Do not retry", with nothing left prepared.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { HeuristicOutcomeError, type ArbiterClient, type Transaction } from '../../../client/index.js'
import type { TestDatabases } from '../../helpers/databases.js'
import type { startTestArbiter } from '../../helpers/test-arbiter.js'
import { balancesOf, closeClientEnv, openAccount, openClientEnv } from './client-env.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let pgPool: pg.Pool
let myPool: mysql.Pool
let nextId = 700
let id: number

beforeAll(async () => {
  ;({ dbs, arbiter, client, pgPool, myPool } = await openClientEnv('escaped'))
})
afterAll(() => closeClientEnv({ dbs, arbiter, client, pgPool, myPool }))
beforeEach(async () => {
  id = nextId++
  await openAccount(dbs, id)
})

/** Runs `body` as a transfer's callback on fresh pooled connections; the outcome, or what it threw. */
async function transfer(
  body: (tx: Transaction, pgConn: pg.PoolClient, myConn: mysql.PoolConnection) => Promise<void>,
  options: { timeoutMs?: number; mayOnlyRead?: boolean } = {},
): Promise<unknown> {
  const pgConn = await pgPool.connect()
  const myConn = await myPool.getConnection()
  try {
    return await client
      .transaction(
        async (tx) => {
          await tx.enlist('pg', pgConn, { mayOnlyRead: options.mayOnlyRead === true })
          await tx.enlist('maria', myConn)
          await body(tx, pgConn, myConn)
        },
        options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs },
      )
      .then(
        () => 'committed',
        (e: unknown) => e,
      )
  } finally {
    pgConn.release()
    myConn.release()
  }
}

/** Nothing of the test database is left prepared, nor any row lock (an UPDATE from another session goes through). */
async function nothingHeld(): Promise<void> {
  expect(await dbs.pgQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()")).toEqual([])
  await dbs.pgQuery('UPDATE accounts SET balance = balance WHERE id = $1', [id])
}

describe('a local PostgreSQL branch ended by the application itself', () => {
  for (const mayOnlyRead of [false, true]) {
    it(`COMMIT, then BEGIN and more writes on the same connection: the new block is not prepared as the branch (mayOnlyRead ${mayOnlyRead})`, async () => {
      // Found by hostile testing: the re-opened block looked like the branch (status 'T'), so PREPARE prepared
      // only its second half, and the transaction committed with the first half committed outside it.
      const outcome = await transfer(
        async (_tx, pgConn, myConn) => {
          await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
          await pgConn.query('COMMIT')
          await pgConn.query('BEGIN')
          await pgConn.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
          await myConn.query('UPDATE accounts SET balance = balance + 6 WHERE id = ?', [id])
        },
        { mayOnlyRead },
      )
      expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
      expect((outcome as Error).message).toMatch(/mixed outcome: .*"pg".*ended by .*the application/)
      // The first block's debit committed (what the caller is warned of); the second block and MariaDB rolled back.
      expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 })
      await nothingHeld()
    })
  }

  it('COMMIT, then BEGIN, and the TM rolls the transaction back (its deadline): mixed, never "rolled back, retryable"', async () => {
    const outcome = await transfer(
      async (_tx, pgConn) => {
        await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
        await pgConn.query('COMMIT')
        await pgConn.query('BEGIN')
        await pgConn.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
        await new Promise((resolve) => setTimeout(resolve, 1_500)) // past the transaction's timeout
      },
      { timeoutMs: 500 },
    )
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 })
    await nothingHeld()
  })

  // Found by hostile testing: in the failed block no query answers, so the mark could not be read; the server's
  // own "idle" after the COMMIT tells it.
  for (const swallowed of [true, false]) {
    it(`COMMIT, then BEGIN and a statement that fails (${swallowed ? 'error swallowed' : 'error thrown'}): mixed, never "rolled back"`, async () => {
      const outcome = await transfer(async (_tx, pgConn, myConn) => {
        await pgConn.query('UPDATE accounts SET balance = balance - 10 WHERE id = $1', [id])
        await pgConn.query('COMMIT')
        await pgConn.query('BEGIN')
        const failed = pgConn.query('SELECT 1 / 0')
        if (swallowed) await failed.catch(() => undefined)
        else await failed
        await myConn.query('UPDATE accounts SET balance = balance + 10 WHERE id = ?', [id])
      })
      expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
      expect((outcome as Error).message).toMatch(/"pg"/)
      expect(await balancesOf(dbs, id)).toEqual({ pg: 90, maria: 0 })
      await nothingHeld()
    })
  }

  it("the callback throws after the application's own COMMIT: mixed, with the application's error as its cause", async () => {
    const thrown = new Error('the application failed after committing by itself')
    const outcome = await transfer(async (_tx, pgConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await pgConn.query('COMMIT')
      throw thrown
    })
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect((outcome as Error).cause).toBe(thrown)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 })
    await nothingHeld()
  })

  it('COMMIT and BEGIN, then the callback throws: the re-opened block is rolled back, the outcome mixed', async () => {
    const outcome = await transfer(async (_tx, pgConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await pgConn.query('COMMIT')
      await pgConn.query('BEGIN')
      await pgConn.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
      throw new Error('failed')
    })
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 })
    await nothingHeld()
  })

  it('a callback that throws without touching the block is told its own error, as before (the common case)', async () => {
    const thrown = new Error('insufficient funds')
    const outcome = await transfer(async (_tx, pgConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      throw thrown
    })
    expect(outcome).toBe(thrown)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
    await nothingHeld()
  })

  it('a MariaDB branch the server rolled back (a deadlock) is a rollback: the application hears its own error, not a mixed outcome', async () => {
    // XA ROLLBACK of a branch MariaDB rolled back itself answers XA_RBDEADLOCK: not the application ending it.
    await openAccount(dbs, id + 1000)
    const other = await myPool.getConnection()
    try {
      const outcome = await transfer(async (_tx, _pgConn, myConn) => {
        await myConn.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id])
        await other.query('BEGIN')
        // The other transaction is the larger: InnoDB picks this branch as the deadlock's victim.
        await other.query('INSERT INTO accounts VALUES (?, 1), (?, 1), (?, 1)', [id + 2000, id + 2001, id + 2002])
        await other.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id + 1000])
        const blocked = other.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id])
        await new Promise((resolve) => setTimeout(resolve, 200))
        try {
          await myConn.query('UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id + 1000])
        } finally {
          await blocked.catch(() => undefined)
          await other.query('ROLLBACK')
        }
      })
      expect(outcome).not.toBeInstanceOf(HeuristicOutcomeError)
      expect((outcome as { errno?: number }).errno).toBe(1213) // ER_LOCK_DEADLOCK, the driver's own error
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
    } finally {
      other.release()
    }
  })

  // Found by hostile testing: the MariaDB counterpart of the application's own COMMIT was told as a rollback (a plain
  // "no" vote at XA END, and a rollback that found nothing) while its writes were committed.
  const ownXaCommit = async (tx: Transaction, myConn: mysql.PoolConnection): Promise<void> => {
    // pg is enlisted first (L1), MariaDB second (L2): the XID the application can build from the documented format.
    const xid = `X'${Buffer.from(tx.gtrid).toString('hex')}',X'${Buffer.from('L2').toString('hex')}',${0x41524254}`
    await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
    await myConn.query(`XA END ${xid}`)
    await myConn.query(`XA COMMIT ${xid} ONE PHASE`)
  }

  it("a MariaDB branch the application ended with its own XA END and XA COMMIT … ONE PHASE: mixed at commit, never 'rolled back'", async () => {
    const outcome = await transfer(async (tx, pgConn, myConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await ownXaCommit(tx, myConn)
    })
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect((outcome as Error).message).toMatch(/"maria"/)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 5 })
    await nothingHeld()
  })

  it('the same, then the application begins an XA transaction of its own on the connection: still mixed, never rolled back', async () => {
    // Found by review: XA END of the branch then answers 1397 (another XA is the connection's), not 1399.
    const other = `X'${Buffer.from(`other-${id}`).toString('hex')}',X'62',1`
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    try {
      const outcome = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.enlist('maria', myConn)
          await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
          await ownXaCommit(tx, myConn)
          await myConn.query(`XA START ${other}`)
        })
        .then(() => 'committed', (e: unknown) => e)
      expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
      expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 5 })
      await nothingHeld()
    } finally {
      pgConn.release()
      myConn.destroy() // its own XA transaction is still open there
    }
  })

  it('the same, then the callback throws: mixed, with its error as the cause', async () => {
    const thrown = new Error('failed after its own XA COMMIT')
    const outcome = await transfer(async (tx, pgConn, myConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await ownXaCommit(tx, myConn)
      throw thrown
    })
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect((outcome as Error).cause).toBe(thrown)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 5 })
    await nothingHeld()
  })

  it("a deferred trigger failing at PREPARE (even with division_by_zero) is a plain rollback, not the application's escape", async () => {
    // Found by review: the mark check's own failure had been told by SQLSTATE 22012 alone.
    await dbs.pgQuery(`CREATE TABLE IF NOT EXISTS deferred_fail (id int)`)
    await dbs.pgQuery(`CREATE OR REPLACE FUNCTION deferred_fail_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM 1 / 0; RETURN NULL; END $$`)
    await dbs.pgQuery(`DROP TRIGGER IF EXISTS deferred_fail_trg ON deferred_fail`)
    await dbs.pgQuery(
      `CREATE CONSTRAINT TRIGGER deferred_fail_trg AFTER INSERT ON deferred_fail DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION deferred_fail_fn()`,
    )
    const outcome = await transfer(async (_tx, pgConn, myConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await pgConn.query('INSERT INTO deferred_fail VALUES (1)')
      await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
    })
    expect(outcome).not.toBeInstanceOf(HeuristicOutcomeError)
    expect((outcome as Error).message).toMatch(/division by zero/)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
    await nothingHeld()
  })

  it('savepoints inside the branch keep it the branch (ROLLBACK TO SAVEPOINT does not lose the mark)', async () => {
    const outcome = await transfer(async (_tx, pgConn, myConn) => {
      await pgConn.query('SAVEPOINT a')
      await pgConn.query('UPDATE accounts SET balance = balance - 50 WHERE id = $1', [id])
      await pgConn.query('ROLLBACK TO SAVEPOINT a')
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
    })
    expect(outcome).toBe('committed')
    expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 5 })
  })

  // Found by hostile testing: RESET ALL (or a SET of the mark's setting) cleared the mark inside the branch's own
  // block, and the caller heard a mixed outcome, "do not retry", for a transfer that committed or rolled back whole.
  for (const mayOnlyRead of [false, true]) {
    it(`RESET ALL inside the branch keeps it the branch, under another TimeZone and DateStyle too (mayOnlyRead ${mayOnlyRead})`, async () => {
      const outcome = await transfer(
        async (_tx, pgConn, myConn) => {
          await pgConn.query("SET LOCAL TimeZone = 'Asia/Kathmandu'")
          await pgConn.query("SET LOCAL DateStyle = 'SQL, DMY'")
          await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
          await pgConn.query('RESET ALL')
          await pgConn.query("SET arbiter.branch = 'something else'")
          await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
        },
        { mayOnlyRead },
      )
      expect(outcome).toBe('committed')
      expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 5 })
      await nothingHeld()
    })
  }

  it('RESET ALL, then the callback throws: its own error, everything rolled back, not a mixed outcome', async () => {
    const thrown = new Error('insufficient funds')
    const outcome = await transfer(async (_tx, pgConn) => {
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await pgConn.query('RESET ALL')
      throw thrown
    })
    expect(outcome).toBe(thrown)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
    await nothingHeld()
  })

  it('RESET ALL, then COMMIT and BEGIN: still told as the application ending the branch itself', async () => {
    const outcome = await transfer(async (_tx, pgConn, myConn) => {
      await pgConn.query('RESET ALL')
      await pgConn.query('UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
      await pgConn.query('COMMIT')
      await pgConn.query('BEGIN')
      await pgConn.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
      await myConn.query('UPDATE accounts SET balance = balance + 6 WHERE id = ?', [id])
    })
    expect(outcome).toBeInstanceOf(HeuristicOutcomeError)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 95, maria: 0 })
    await nothingHeld()
  })
})
