// Typed errors, retries of the whole transaction, misuse of enlist, and
// cancellation, against a real TM, PostgreSQL and MariaDB.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import mysqlCallback from 'mysql2'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  IllegalStateError,
  InvalidArgumentError,
  OutcomeUnknownError,
  TransactionAbortedError,
  TransactionNotFoundError,
  UnavailableError,
  createArbiterClient,
  type ArbiterClient,
} from '../../../client/index.js'
import type { TestDatabases } from '../../helpers/databases.js'
import type { startTestArbiter } from '../../helpers/test-arbiter.js';
import { freePort } from '../../helpers/test-arbiter.js'
import { balancesOf, closeClientEnv, openAccount, openClientEnv } from './client-env.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let pgPool: pg.Pool
let myPool: mysql.Pool
let nextId = 200

beforeAll(async () => {
  ;({ dbs, arbiter, client, pgPool, myPool } = await openClientEnv('clienterr'))
})

afterAll(() => closeClientEnv({ dbs, arbiter, client, pgPool, myPool }))

let id: number
beforeEach(async () => {
  id = nextId++
  await openAccount(dbs, id)
})

const balances = (accountId: number): Promise<{ pg: number; maria: number }> => balancesOf(dbs, accountId)

describe('retries', () => {
  /** Attempt 1 outlives its 300 ms timeout, so the TM's reaper aborts it (retryable). */
  const slowFirstAttempt = (calls: { n: number }) => async (tx: Parameters<Parameters<ArbiterClient['transaction']>[0]>[0]) => {
    calls.n += 1
    await tx.execute('pg', 'UPDATE accounts SET balance = balance - 10 WHERE id = $1', [id])
    if (calls.n === 1) await sleep(600)
    await tx.execute('maria', 'UPDATE accounts SET balance = balance + 10 WHERE id = ?', [id])
    return calls.n
  }

  it('a retryable abort (deadline) is retried when asked, and the second attempt commits', async () => {
    const calls = { n: 0 }
    const n = await client.transaction(slowFirstAttempt(calls), { timeoutMs: 300, retry: { attempts: 3, baseDelayMs: 10 } })
    expect(n).toBe(2)
    expect(await balances(id)).toEqual({ pg: 90, maria: 10 })
  })

  it('without retry the TransactionAbortedError reaches the caller', async () => {
    const calls = { n: 0 }
    const error = await client.transaction(slowFirstAttempt(calls), { timeoutMs: 300 }).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransactionAbortedError)
    const aborted = error as TransactionAbortedError
    expect(aborted.retryable).toBe(true)
    expect(aborted.code).toBe('TM_TX_ABORTED')
    expect(aborted.reason).toMatch(/deadline/)
    expect(aborted.gtrid).toMatch(/:/)
    expect(calls.n).toBe(1)
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
  })

  it('an insufficient-funds CHECK violation is not retried', async () => {
    let calls = 0
    const error = await client
      .transaction(
        async (tx) => {
          calls += 1
          await tx.execute('maria', 'UPDATE accounts SET balance = balance + 500 WHERE id = ?', [id])
          await tx.execute('pg', 'UPDATE accounts SET balance = balance - 500 WHERE id = $1', [id])
        },
        { retry: { attempts: 3, baseDelayMs: 10 } },
      )
      .catch((e: unknown) => e)
    expect(calls).toBe(1)
    expect(error).toBeInstanceOf(TransactionAbortedError)
    expect((error as TransactionAbortedError).retryable).toBe(false)
    expect((error as TransactionAbortedError).serverCode).toBe('23514')
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
  })

  it('a local branch that cannot prepare aborts the transaction with the reason', async () => {
    const pgConn = await pgPool.connect()
    try {
      const error = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.execute('maria', 'UPDATE accounts SET balance = balance + 500 WHERE id = ?', [id])
          // The application swallows its own failed statement: the pg block is aborted.
          await pgConn.query('UPDATE accounts SET balance = balance - 500 WHERE id = $1', [id]).catch(() => undefined)
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(TransactionAbortedError)
      expect((error as TransactionAbortedError).reason).toMatch(/local branch on "pg" voted no/)
      expect(pgConn.getTransactionStatus()).toBe('I')
      expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
    } finally {
      pgConn.release()
    }
  })
})

describe('enlist misuse', () => {
  it('a wrong connection type is a clear InvalidArgumentError', async () => {
    const callbackConn = mysqlCallback.createConnection({ uri: dbs.mysqlUrl })
    try {
      await client.transaction(async (tx) => {
        const attempts: [unknown, RegExp][] = [
          [pgPool, /got a pool/],
          [myPool, /got a pool/],
          [callbackConn, /callback-API connection: use mysql2\/promise, or pass conn.promise\(\)/],
          [{ query: () => undefined }, /neither/],
          [null, /accepts a connected pg Client or PoolClient .* mysql2\/promise Connection/],
        ]
        for (const [conn, message] of attempts) {
          const error = await tx.enlist('pg', conn as never).catch((e: unknown) => e)
          expect(error).toBeInstanceOf(InvalidArgumentError)
          expect((error as Error).message).toMatch(message)
        }
        await tx.execute('pg', 'UPDATE accounts SET balance = 1 WHERE id = $1', [id])
      })
      expect((await balances(id)).pg).toBe(1)
    } finally {
      callbackConn.destroy()
    }
  })

  it('double enlist, in one transaction or two at once, is an IllegalStateError; the connection is free afterwards', async () => {
    const pgConn = await pgPool.connect()
    try {
      await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        const twice = await tx.enlist('pg', pgConn).catch((e: unknown) => e)
        expect(twice).toBeInstanceOf(IllegalStateError)
        expect((twice as Error).message).toMatch(/already enlisted in transaction/)
        const other = await client.transaction((tx2) => tx2.enlist('pg', pgConn)).catch((e: unknown) => e)
        expect(other).toBeInstanceOf(IllegalStateError)
        expect((other as Error).message).toMatch(/enlisted in another transaction/)
        await pgConn.query('UPDATE accounts SET balance = 7 WHERE id = $1', [id])
      })
      expect((await balances(id)).pg).toBe(7)
      // Free again: the next transaction may enlist it.
      await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await pgConn.query('UPDATE accounts SET balance = 8 WHERE id = $1', [id])
      })
      expect((await balances(id)).pg).toBe(8)
    } finally {
      pgConn.release()
    }
  })

  it('an unknown resource is an InvalidArgumentError from the TM and leaves the connection free', async () => {
    const myConn = await myPool.getConnection()
    try {
      const error = await client.transaction((tx) => tx.enlist('nope', myConn)).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      await client.transaction(async (tx) => {
        await tx.enlist('maria', myConn)
        await myConn.query('UPDATE accounts SET balance = 3 WHERE id = ?', [id])
      })
      expect((await balances(id)).maria).toBe(3)
    } finally {
      myConn.release()
    }
  })

  it('execute after the callback returned is an IllegalStateError', async () => {
    let kept: Parameters<Parameters<ArbiterClient['transaction']>[0]>[0] | undefined
    await client.transaction((tx) => {
      kept = tx
    })
    await expect(kept!.execute('pg', 'SELECT 1')).rejects.toBeInstanceOf(IllegalStateError)
  })
})

describe('cancellation and server errors', () => {
  it('aborting the signal rolls back and rejects with the signal reason; the abandoned callback cannot write outside the transaction on its enlisted connections', async () => {
    const pgConn = await pgPool.connect()
    const myConn = await myPool.getConnection()
    const controller = new AbortController()
    const reason = new Error('user pressed cancel')
    const late: unknown[] = []
    let callbackDone!: () => void
    const callbackFinished = new Promise<void>((resolve) => (callbackDone = resolve))
    try {
      const started = Date.now()
      const pending = client.transaction(
        async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.enlist('maria', myConn)
          await pgConn.query('UPDATE accounts SET balance = 0 WHERE id = $1', [id])
          await tx.execute('maria', 'UPDATE accounts SET balance = 50 WHERE id = ?', [id])
          controller.abort(reason)
          await sleep(300) // transaction() has rejected meanwhile; this callback goes on regardless
          late.push(await pgConn.query('UPDATE accounts SET balance = 7 WHERE id = $1', [id]).then(() => 'ran', (e: unknown) => e))
          late.push(await myConn.query('UPDATE accounts SET balance = 7 WHERE id = ?', [id]).then(() => 'ran', (e: unknown) => e))
          callbackDone()
        },
        { signal: controller.signal },
      )
      await expect(pending).rejects.toBe(reason)
      expect(Date.now() - started).toBeLessThan(4_000)
      await callbackFinished
      // Its connections were closed under it: the late writes failed instead of committing on their own.
      expect(late).toHaveLength(2)
      for (const outcome of late) expect(outcome).toBeInstanceOf(Error)
      expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
    } finally {
      pgConn.release(true)
      myConn.release() // already destroyed: mysql2 keeps it out of the pool
    }
  })

  it('an enlist still starting when the callback returns is not announced as prepared: the transaction rolls back and the connection is left idle', async () => {
    const pgConn = await pgPool.connect()
    let enlisting: Promise<void> | undefined
    try {
      const outcome = await client
        .transaction(async (tx) => {
          enlisting = tx.enlist('pg', pgConn) // not awaited
          enlisting.catch(() => undefined)
        })
        .then(() => 'committed', (e: unknown) => e)
      expect(outcome).toBeInstanceOf(TransactionAbortedError)
      expect((outcome as Error).message).toMatch(/tx\.enlist\(\) of a connection to "pg" had not finished when the callback returned/)
      await enlisting?.catch(() => undefined)
      await sleep(100)
      expect(pgConn.getTransactionStatus()).toBe('I')
      expect((await dbs.preparedLeft('-')).pg).toEqual([])
    } finally {
      pgConn.release()
    }
  })

  it("tx.signal aborts with the caller's reason, whether the callback looked at it before the cancel or only after", async () => {
    for (const lookFirst of [true, false]) {
      const controller = new AbortController()
      const reason = new Error(`cancelled (signal looked at first: ${lookFirst})`)
      const seen: { aborted: boolean; reason: unknown; executeError: unknown }[] = []
      let fired = false
      const pending = client.transaction(
        async (tx) => {
          if (lookFirst) tx.signal.addEventListener('abort', () => (fired = true))
          controller.abort(reason)
          await sleep(50) // the runner abandons the callback; it keeps running
          const executeError = await tx.execute('maria', 'SELECT 1').catch((e: unknown) => e)
          seen.push({ aborted: tx.signal.aborted, reason: tx.signal.reason, executeError })
        },
        { signal: controller.signal },
      )
      await expect(pending).rejects.toBe(reason)
      await expect.poll(() => seen.length).toBe(1)
      expect(seen[0]).toEqual({ aborted: true, reason, executeError: reason })
      expect(fired).toBe(lookFirst)
    }
  })

  it('run() cancelled after it was sent rejects with OutcomeUnknownError (the reason as cause): the TM commits it anyway', async () => {
    const controller = new AbortController()
    const reason = new Error('no longer needed')
    const running = client.run(
      [
        { resource: 'pg', sql: 'SELECT pg_sleep(0.3)' },
        { resource: 'pg', sql: 'UPDATE accounts SET balance = 42 WHERE id = $1', params: [id] },
      ],
      { signal: controller.signal },
    )
    setTimeout(() => controller.abort(reason), 100)
    const error = await running.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(OutcomeUnknownError)
    expect((error as Error).cause).toBe(reason)
    // It was not "not run": the TM went on and committed.
    for (let i = 0; i < 50 && (await balances(id)).pg !== 42; i++) await sleep(100)
    expect((await balances(id)).pg).toBe(42)
    // Aborted before sending: nothing happens, and the reason itself comes back.
    await expect(client.run([{ resource: 'pg', sql: 'SELECT 1' }], { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
  })

  it('an already aborted signal never begins', async () => {
    const reason = new Error('too late')
    let ran = false
    await expect(client.transaction(() => (ran = true), { signal: AbortSignal.abort(reason) })).rejects.toBe(reason)
    expect(ran).toBe(false)
  })

  it('getTransaction of an unknown transaction is TransactionNotFoundError; a malformed gtrid InvalidArgumentError', async () => {
    let own = ''
    await client.transaction(async (tx) => {
      own = tx.gtrid.split(':')[0]!
    })
    const unknown = `${own}:01JDXXXXXXXXXXXXXXXXXXXXXX`
    await expect(client.getTransaction(unknown)).rejects.toBeInstanceOf(TransactionNotFoundError)
    await expect(client.getTransaction('not a gtrid')).rejects.toBeInstanceOf(InvalidArgumentError)
  })

  it('an unreachable TM is an UnavailableError (retryable)', async () => {
    const nowhere = createArbiterClient({ address: `127.0.0.1:${await freePort()}`, defaultDeadlineMs: 2_000 })
    try {
      const error = await nowhere.transaction(() => 1).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(UnavailableError)
      expect((error as UnavailableError).retryable).toBe(true)
    } finally {
      nowhere.close()
    }
    await expect(nowhere.transaction(() => 1)).rejects.toBeInstanceOf(IllegalStateError)
  })

  it('a failing statement in run() rolls everything back', async () => {
    const error = await client
      .run([
        { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + 500 WHERE id = ?', params: [id] },
        { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - 500 WHERE id = $1', params: [id] },
      ])
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(TransactionAbortedError)
    expect((error as TransactionAbortedError).retryable).toBe(false)
    expect(await balances(id)).toEqual({ pg: 100, maria: 0 })
  })
})
