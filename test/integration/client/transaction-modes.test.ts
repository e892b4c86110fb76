// The client library against a real TM, PostgreSQL and MariaDB: every way
// of doing branch work commits on both databases, and a throw rolls back both.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { InvalidArgumentError, decimal, json, type ArbiterClient } from '../../../client/index.js'
import type { TestDatabases } from '../../helpers/databases.js'
import type { startTestArbiter } from '../../helpers/test-arbiter.js'
import { balancesOf, closeClientEnv, openAccount, openClientEnv } from './client-env.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let pgPool: pg.Pool
let myPool: mysql.Pool
let nextId = 100

beforeAll(async () => {
  ;({ dbs, arbiter, client, pgPool, myPool } = await openClientEnv('client', { token: 'test-token' }))
})

afterAll(() => closeClientEnv({ dbs, arbiter, client, pgPool, myPool }))

let id: number
beforeEach(async () => {
  id = nextId++
  await openAccount(dbs, id)
})

const balances = (accountId: number): Promise<{ pg: number; maria: number }> => balancesOf(dbs, accountId)

async function expectIdle(pgConn: pg.PoolClient, myConn: mysql.PoolConnection): Promise<void> {
  expect(pgConn.getTransactionStatus()).toBe('I')
  expect((await pgConn.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
  const [rows] = await myConn.query('SELECT @@in_transaction AS t')
  expect(rows).toEqual([{ t: 0 }])
}

describe('through the TM in batches (executeBatch)', () => {
  it('runs the statements in order across resources in one call and returns one result each', async () => {
    const results = await client.transaction((tx) =>
      tx.executeBatch([
        { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', params: [25, id] },
        { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + ? WHERE id = ?', params: [25, id] },
        { resource: 'pg', sql: 'SELECT balance FROM accounts WHERE id = $1', params: [id] },
      ]),
    )
    expect(results.map((r) => r.affectedRows).slice(0, 2)).toEqual([1, 1])
    expect(results[2]!.rows).toEqual([{ balance: 75 }])
    expect(await balances(id)).toEqual({ pg: 75, maria: 25 })
  })

  it('a failing statement stops the batch and rolls everything back; the error names it', async () => {
    let after = 'not reached'
    const error = await client
      .transaction(async (tx) => {
        await tx.execute('maria', 'UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
        await tx.executeBatch([
          { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - 5 WHERE id = $1', params: [id] },
          { resource: 'pg', sql: 'SELECT 1/0' },
          { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + 1000 WHERE id = ?', params: [id] },
        ])
        after = 'reached'
      })
      .then(
        () => ({ name: 'none', message: 'committed' }),
        (e: unknown) => e as { name: string; message: string },
      )
    expect(error.name).toBe('TransactionAbortedError')
    expect(error.message).toMatch(/statement 2 of 3: .*division by zero/)
    expect(after).toBe('not reached')
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
  })

  it('an unknown resource in the middle is refused and the transaction rolled back; bad lists never leave the client', async () => {
    const refused = await client
      .transaction((tx) =>
        tx.executeBatch([
          { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - 5 WHERE id = $1', params: [id] },
          { resource: 'nowhere', sql: 'SELECT 1' },
        ]),
      )
      .then(
        () => ({ name: 'none', message: 'committed' }),
        (e: unknown) => e as { name: string; message: string },
      )
    expect(refused.name).toBe('InvalidArgumentError')
    expect(refused.message).toMatch(/statement 2 of 2: .*nowhere/)
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
    const empty = await client.transaction((tx) => tx.executeBatch([])).catch((e: unknown) => e)
    expect(empty).toBeInstanceOf(InvalidArgumentError)
    expect((empty as Error).message).toMatch(/executeBatch\(\) needs at least one statement/)
    const malformed = await client
      .transaction((tx) => tx.executeBatch([{ resource: 'pg', sql: 'SELECT 1' }, { resource: '', sql: 'SELECT 1' }]))
      .catch((e: unknown) => e)
    expect(malformed).toBeInstanceOf(InvalidArgumentError)
    expect((malformed as Error).message).toMatch(/statement 2 needs resource and sql/)
  })
})

describe('through the TM (execute)', () => {
  it('commits a transfer on both databases and returns the callback value with typed rows', async () => {
    const result = await client.transaction(async (tx) => {
      expect(tx.gtrid).toMatch(/^[\w-]+:[0-9A-Z]{26}$/)
      await tx.execute('pg', 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [30, id])
      const upd = await tx.execute('maria', 'UPDATE accounts SET balance = balance + ? WHERE id = ?', [30, id])
      expect(upd.affectedRows).toBe(1)
      const { rows, columns } = await tx.execute<{ id: number; balance: number }>('pg', 'SELECT id, balance FROM accounts WHERE id = $1', [id])
      expect(columns.map((c) => c.name)).toEqual(['id', 'balance'])
      return rows[0]
    })
    expect(result).toEqual({ id, balance: 70 })
    expect(await balances(id)).toEqual({ pg: 70, maria: 30 })
  })

  it("waitFor 'durable' answers at the commit point; the writes land on both", async () => {
    const gtrid = await client.transaction(
      async (tx) => {
        await tx.execute('pg', 'UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
        await tx.execute('maria', 'UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id])
        return tx.gtrid
      },
      { waitFor: 'durable', labels: { mode: 'durable' } },
    )
    await expect.poll(async () => (await client.getTransaction(gtrid)).state).toBe('COMMITTED')
    expect((await client.getTransaction(gtrid)).labels).toEqual({ mode: 'durable' })
    expect(await balances(id)).toEqual({ pg: 99, maria: 1 })
  })

  it('round-trips the value types', async () => {
    const when = new Date('2026-11-24T12:00:00.000Z')
    const rows = await client.transaction(async (tx) => {
      const r = await tx.execute(
        'pg',
        'SELECT $1::int8 AS i, $2::int8 AS big, $3::float8 AS d, $4::numeric AS n, $5::timestamptz AS t, $6::jsonb AS j, $7::bytea AS b, $8::text AS s, $9::bool AS f, $10::text AS z, $11::jsonb AS k',
        [42, 2n ** 62n, 1.5, decimal('12.50'), when, { a: [1, 2] }, Buffer.from('hi'), 'text', true, null, json('str')],
      )
      return r.rows
    })
    expect(rows).toEqual([{ i: 42, big: 2n ** 62n, d: 1.5, n: '12.50', t: when, j: { a: [1, 2] }, b: Buffer.from('hi'), s: 'text', f: true, z: null, k: 'str' }])
  })

  it('a throw in the callback rolls back both and the caller sees its own error', async () => {
    const mine = new Error('changed my mind')
    const error = await client
      .transaction(async (tx) => {
        await tx.execute('pg', 'UPDATE accounts SET balance = balance - 30 WHERE id = $1', [id])
        await tx.execute('maria', 'UPDATE accounts SET balance = balance + 30 WHERE id = ?', [id])
        throw mine
      })
      .catch((e: unknown) => e)
    expect(error).toBe(mine)
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
  })
})

describe('local branches (enlist)', () => {
  it('commits pg and mysql2 pool connections enlisted in one transaction; they are usable afterwards', async () => {
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    try {
      const gtrid = await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await tx.enlist('maria', myConn)
        await pgConn.query('UPDATE accounts SET balance = balance - 40 WHERE id = $1', [id])
        await myConn.query('UPDATE accounts SET balance = balance + 40 WHERE id = ?', [id])
        return tx.gtrid
      })
      expect(await balances(id)).toEqual({ pg: 60, maria: 40 })
      await expectIdle(pgConn, myConn)
      const info = await client.getTransaction(gtrid)
      expect(info.commitPath).toBe('two-phase')
      expect(info.branches.map((b) => b.mode)).toEqual(['local', 'local'])
      // The TM heard from the client: no grace-period wait before COMMITTED.
      await expect.poll(async () => (await client.getTransaction(gtrid)).state, { timeout: 900, interval: 50 }).toBe('COMMITTED')
    } finally {
      pgConn.release()
      myConn.release()
    }
    // And a connection can serve the next transaction.
    const again = await pgPool.connect()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('pg', again)
        await again.query('UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
      })
    } finally {
      again.release()
    }
    expect((await balances(id)).pg).toBe(59)
  })

  it('a throw in the callback rolls back both local branches and the caller sees its own error', async () => {
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    const mine = new TypeError('oops')
    try {
      const error = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.enlist('maria', myConn)
          await pgConn.query('UPDATE accounts SET balance = balance - 40 WHERE id = $1', [id])
          await myConn.query('UPDATE accounts SET balance = balance + 40 WHERE id = ?', [id])
          throw mine
        })
        .catch((e: unknown) => e)
      expect(error).toBe(mine)
      expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
      await expectIdle(pgConn, myConn)
    } finally {
      pgConn.release()
      myConn.release()
    }
  })

  it('read-only local branches commit too (they vote read-only)', async () => {
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    try {
      let gtrid = ''
      const seen = await client.transaction(async (tx) => {
        gtrid = tx.gtrid
        await tx.enlist('pg', pgConn, { mayOnlyRead: true })
        await tx.enlist('maria', myConn, { mayOnlyRead: true })
        const p = await pgConn.query('SELECT balance FROM accounts WHERE id = $1', [id])
        const [m] = await myConn.query('SELECT balance FROM accounts WHERE id = ?', [id])
        return [Number((p.rows[0] as { balance: string }).balance), Number((m as { balance: number }[])[0]!.balance)]
      })
      expect(seen).toEqual([100, 0])
      const info = await client.getTransaction(gtrid)
      expect(info.branches.map((b) => b.state)).toEqual(['READ_ONLY', 'READ_ONLY'])
      await expectIdle(pgConn, myConn)
    } finally {
      pgConn.release()
      myConn.release()
    }
  })
})

describe('mixed', () => {
  it('a managed branch on MariaDB and a local pg branch commit together', async () => {
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await pgConn.query('UPDATE accounts SET balance = balance - 25 WHERE id = $1', [id])
        await tx.execute('maria', 'UPDATE accounts SET balance = balance + 25 WHERE id = ?', [id])
      })
      expect(await balances(id)).toEqual({ pg: 75, maria: 25 })
      expect(pgConn.getTransactionStatus()).toBe('I')
    } finally {
      await pgConn.end()
    }
  })

  it('a managed branch on pg and a local mysql2 branch commit together; a throw rolls both back', async () => {
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    try {
      await client.transaction(async (tx) => {
        await tx.execute('pg', 'UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
        await tx.enlist('maria', myConn)
        await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
      })
      expect(await balances(id)).toEqual({ pg: 95, maria: 5 })
      const boom = new Error('boom')
      await expect(
        client.transaction(async (tx) => {
          await tx.execute('pg', 'UPDATE accounts SET balance = balance - 5 WHERE id = $1', [id])
          await tx.enlist('maria', myConn)
          await myConn.query('UPDATE accounts SET balance = balance + 5 WHERE id = ?', [id])
          throw boom
        }),
      ).rejects.toBe(boom)
      expect(await balances(id)).toEqual({ pg: 95, maria: 5 })
    } finally {
      await myConn.end()
    }
  })
})

describe('enlist options', () => {
  it('a local branch that may only read and did only read leaves read-only; one that is not marked is prepared and committed (PostgreSQL and MariaDB)', async () => {
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    const pgConn = await pgPool.connect()
    try {
      const branchStates = async (mayOnlyRead: boolean): Promise<string[]> => {
        let gtrid = ''
        await client.transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.execute('pg', 'UPDATE accounts SET balance = balance - 1 WHERE id = $1', [id])
          await tx.enlist('maria', myConn, { mayOnlyRead })
          await tx.enlist('pg', pgConn, { mayOnlyRead })
          await myConn.query('SELECT balance FROM accounts WHERE id = ?', [id])
          await pgConn.query('SELECT balance FROM accounts WHERE id = $1', [id])
        })
        // The client reports its committed local branches without waiting: the TM may say COMMITTING a moment longer.
        for (let i = 0; i < 50 && (await client.getTransaction(gtrid)).state !== 'COMMITTED'; i++) await new Promise((r) => setTimeout(r, 40))
        const info = await client.getTransaction(gtrid)
        expect(info.state).toBe('COMMITTED')
        return info.branches.filter((b) => b.mode === 'local').map((b) => `${b.resource} ${b.state}`)
      }
      expect(await branchStates(true)).toEqual(['maria READ_ONLY', 'pg READ_ONLY'])
      expect(await branchStates(false)).toEqual(['maria COMMITTED', 'pg COMMITTED'])
      expect(await balances(id)).toEqual({ pg: 98, maria: 0 })
      const bad = await client
        .transaction((tx) => tx.enlist('maria', myConn, { mayOnlyRead: 'yes' as unknown as boolean }))
        .catch((e: unknown) => e)
      expect(bad).toBeInstanceOf(InvalidArgumentError)
      expect((bad as Error).message).toMatch(/mayOnlyRead must be a boolean/)
    } finally {
      await myConn.end()
      pgConn.release()
    }
  })
})

describe('one-shot run', () => {
  it('runs statements on both databases and commits in one call', async () => {
    const { transaction, results } = await client.run(
      [
        { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', params: [10, id] },
        { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + ? WHERE id = ?', params: [10, id] },
        { resource: 'maria', sql: 'SELECT balance FROM accounts WHERE id = ?', params: [id] },
      ],
      { labels: { purpose: 'test' } },
    )
    expect(transaction.state).toBe('COMMITTED')
    expect(transaction.labels).toEqual({ purpose: 'test' })
    expect(results.map((r) => r.affectedRows).slice(0, 2)).toEqual([1, 1])
    expect(results[2]!.rows).toEqual([{ balance: 10 }])
    expect(await balances(id)).toEqual({ pg: 90, maria: 10 })
  })
})
