// Issue #21, item 11: the demo labelled a MariaDB lock wait timeout on the
// application's own connection (local branches) "unexpected Error: Error:
// Lock wait timeout exceeded…": the driver's error, rethrown as is after
// the rollback. It is an expected, retryable lock conflict, counted as one.
// And the demo no longer says "the tests start throwaway servers".
import mysql from 'mysql2/promise'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { TransactionAbortedError } from '../../../client/index.js'
import { InsufficientFundsError } from '../../../examples/bank-transfer/accounts.js'
import { classifyOutcome } from '../../../examples/bank-transfer/classify-outcome.js'
import { ensureServers } from '../../harness/ensure-servers.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'outcomes')
  await dbs.pgQuery('INSERT INTO accounts VALUES (1, 10)')
  await dbs.mysqlQuery('INSERT INTO accounts VALUES (1, 10)')
})
afterAll(async () => dbs?.close())

/** The error a second writer of row 1 gets while the first holds its lock. */
async function conflict<T>(open: () => Promise<T>, holdLock: (c: T) => Promise<unknown>, blocked: (c: T) => Promise<unknown>, close: (c: T) => Promise<unknown>): Promise<unknown> {
  const [holder, waiter] = [await open(), await open()]
  try {
    await holdLock(holder)
    return await blocked(waiter).then(
      () => undefined,
      (error: unknown) => error,
    )
  } finally {
    await close(holder)
    await close(waiter)
  }
}

describe('the demo counts lock conflicts as expected, retryable aborts', () => {
  it("a MariaDB lock wait timeout on the application's own connection", async () => {
    const error = await conflict(
      () => mysql.createConnection({ uri: dbs.mysqlUrl }),
      async (c) => {
        await c.query('BEGIN')
        await c.query('UPDATE accounts SET balance = balance - 1 WHERE id = 1')
      },
      async (c) => {
        await c.query('SET SESSION innodb_lock_wait_timeout = 1')
        await c.query('BEGIN')
        await c.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1')
      },
      (c) => c.end(),
    )
    expect(String(error)).toMatch(/Lock wait timeout exceeded/)
    expect(classifyOutcome(error)).toBe('aborted:lock conflict')
  })

  it("a PostgreSQL lock timeout on the application's own connection", async () => {
    const error = await conflict(
      async () => {
        const c = new pg.Client({ connectionString: dbs.pgUrl })
        await c.connect()
        return c
      },
      async (c) => {
        await c.query('BEGIN')
        await c.query('UPDATE accounts SET balance = balance - 1 WHERE id = 1')
      },
      async (c) => {
        await c.query('BEGIN')
        await c.query("SET LOCAL lock_timeout = '200ms'")
        await c.query('UPDATE accounts SET balance = balance + 1 WHERE id = 1')
      },
      (c) => c.end(),
    )
    expect((error as { code?: string }).code).toBe('55P03')
    expect(classifyOutcome(error)).toBe('aborted:lock conflict')
  })

  it('the other outcomes keep their names', () => {
    expect(classifyOutcome(new InsufficientFundsError({ bank: 'pg', id: 1 }, 5))).toBe('aborted:insufficient funds')
    expect(classifyOutcome(new TransactionAbortedError('statement on "pg" failed: deadlock detected'))).toBe('aborted:lock conflict')
    expect(classifyOutcome(new RangeError('boom'))).toBe('aborted:unexpected RangeError: RangeError: boom')
  })
})

describe("the demo's own words", () => {
  it('ensure-servers speaks of the demo, not of tests', () => {
    const lines: string[] = []
    const log = vi.spyOn(console, 'log').mockImplementation((line: string) => void lines.push(line))
    const error = vi.spyOn(console, 'error').mockImplementation((line: string) => void lines.push(line))
    const noApt = process.env.ARBITER_NO_APT
    process.env.ARBITER_NO_APT = '1' // never install packages from a test
    try {
      ensureServers({ who: 'the demo', rerun: 'npm run demo' })
    } finally {
      log.mockRestore()
      error.mockRestore()
      if (noApt === undefined) delete process.env.ARBITER_NO_APT
      else process.env.ARBITER_NO_APT = noApt
    }
    const text = lines.join('\n')
    expect(text).not.toMatch(/\btests?\b/)
    if (text.includes('installed')) expect(text).toMatch(/throwaway servers are started for the demo/)
  })
})
