// When the answer to Commit is lost, the client asks the TM what it decided
// before it touches its local branches; when the TM stays unreachable it
// leaves them to the TM (destroying its connections) and says the outcome
// is unknown.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OutcomeUnknownError, TransactionAbortedError, createArbiterClient } from '../../../client/index.js'
import { configureFailpoints } from '../../../server/failpoints.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, startTestArbiter, testConfig } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'clientoutcome')
})
afterAll(async () => {
  configureFailpoints(undefined)
  await dbs?.close()
})

const resources = () => [
  { name: 'pg', kind: 'postgres' as const, url: dbs.pgUrl },
  { name: 'maria', kind: 'mysql' as const, url: dbs.mysqlUrl },
]

async function rowsWithId(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

describe('unknown Commit outcome', () => {
  it('a Commit that outlives its RPC deadline is resolved with GetTransaction, then the local branches commit', async () => {
    const arbiter = await startTestArbiter(resources())
    // Phase 2 stalls after the decision: the client's 800 ms Commit deadline passes first.
    configureFailpoints('after-decision=sleep:2000')
    const client = createArbiterClient({ address: arbiter.address, defaultDeadlineMs: 800 })
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    try {
      const started = Date.now()
      const gtrid = await client.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await tx.enlist('maria', myConn)
        await pgConn.query('INSERT INTO accounts VALUES (401, 1)')
        await myConn.query('INSERT INTO accounts VALUES (401, 1)')
        return tx.gtrid
      })
      // The Commit RPC itself timed out at 800 ms; GetTransaction then said COMMITTING (the
      // decision is logged), so the client committed its branches without waiting for the stalled TM.
      const elapsed = Date.now() - started
      expect(elapsed).toBeGreaterThanOrEqual(800)
      expect(elapsed).toBeLessThan(2_000)
      expect(await rowsWithId(401)).toEqual({ pg: 1, maria: 1 })
      expect(pgConn.getTransactionStatus()).toBe('I')
      await expect.poll(async () => (await client.getTransaction(gtrid)).state, { timeout: 10_000 }).toBe('COMMITTED')
    } finally {
      configureFailpoints(undefined)
      client.close()
      await pgConn.end()
      await myConn.end()
      await arbiter.stopAndClean()
    }
  })

  it('a TM that dies after the decision: OutcomeUnknownError, connections destroyed; the restarted TM commits both', async () => {
    const tm = await ArbiterProcess.start(testConfig(resources()), { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = createArbiterClient({ address: tm.address, defaultDeadlineMs: 5_000, outcomeQueryAttempts: 2 })
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    const pgEnded = new Promise((resolve) => pgConn.once('end', resolve))
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    const nodeId = tm.config.nodeId!
    try {
      const error = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await tx.enlist('maria', myConn)
          await pgConn.query('INSERT INTO accounts VALUES (402, 1)')
          await myConn.query('INSERT INTO accounts VALUES (402, 1)')
        })
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(OutcomeUnknownError)
      expect((error as OutcomeUnknownError).gtrid).toMatch(new RegExp(`^${nodeId}:`))
      expect((await tm.exited()).signal).toBe('SIGKILL')
      // The client let go of its connections, so the MariaDB branch is no longer attached to a live session.
      await pgEnded
      await expect(myConn.query('SELECT 1')).rejects.toThrow()
      // Recovery on restart commits the logged decision on both resources.
      await tm.spawn({ ARBITER_FAILPOINTS: '' })
      await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 15_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
      expect(await rowsWithId(402)).toEqual({ pg: 1, maria: 1 })
    } finally {
      client.close()
      myConn.destroy()
      await tm.destroy()
    }
  })

  it('client.close() while its local branches prepare: not committed (the Commit was never sent), said so, nothing left prepared', async () => {
    // Found by hostile testing: told OutcomeUnknownError ("the TM did not answer") though nothing had left the process.
    const arbiter = await startTestArbiter(resources())
    const client = createArbiterClient({ address: arbiter.address })
    await dbs.pgQuery(`CREATE FUNCTION slow_prepare() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(1); RETURN NULL; END $$`)
    await dbs.pgQuery('CREATE TABLE slow_prepare (id int PRIMARY KEY)')
    await dbs.pgQuery('CREATE CONSTRAINT TRIGGER slow_prepare AFTER INSERT ON slow_prepare DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION slow_prepare()')
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    try {
      const error = await client
        .transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await pgConn.query('INSERT INTO slow_prepare VALUES (1)') // its trigger sleeps 1 s at PREPARE
          await tx.execute('maria', 'INSERT INTO accounts VALUES (403, 1)')
          setTimeout(() => client.close(), 300) // while the local branch prepares
        })
        .catch((e: unknown) => e)
      expect(error).not.toBeInstanceOf(OutcomeUnknownError)
      expect(error).toBeInstanceOf(TransactionAbortedError)
      expect((error as Error).message).toMatch(/was not committed: its Commit was refused before it ran .*the client is closed/)
      const pgPrepared = () => dbs.pgQuery("SELECT gid FROM pg_prepared_xacts WHERE database = current_database()").then((r) => r.length)
      await expect.poll(pgPrepared, { timeout: 15_000, interval: 250 }).toBe(0)
      expect(await rowsWithId(403)).toEqual({ pg: 0, maria: 0 })
      expect((await dbs.pgQuery('SELECT id FROM slow_prepare')).length).toBe(0)
    } finally {
      client.close()
      await pgConn.end().catch(() => undefined)
      await arbiter.stopAndClean()
    }
  })
})

