// A Redis branch's commit applies its writes without a rollback: a key changed
// outside Arbiter between prepare and commit (Arbiter's locks bind only its
// own branches) makes some writes fail while the rest are applied. That
// transaction committed in part: the caller hears HeuristicOutcomeError and
// the TM says HEURISTIC, never COMMITTED.
import { Redis } from 'ioredis'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { HeuristicOutcomeError, createArbiterClient } from '../../../client/index.js'
import { parseGtrid, pgGidToXid } from '../../../adapters/index.js'
import { configureFailpoints } from '../../../server/failpoints.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
let redis: Redis

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'redispartial')
  redis = new Redis(sharedServerUrls().redisUrl)
})
afterAll(async () => {
  configureFailpoints(undefined)
  redis?.disconnect()
  await dbs?.close()
})

describe('a Redis branch committed in part', () => {
  it('a key changed outside Arbiter between the decision and phase 2: HeuristicOutcomeError, state HEURISTIC, also after a restart', async () => {
    const resources = [
      { name: 'pg', kind: 'postgres' as const, url: dbs.pgUrl },
      { name: 'cache', kind: 'redis' as const, url: sharedServerUrls().redisUrl },
    ]
    const arbiter = await startTestArbiter(resources)
    const key = `partial:${Date.now()}`
    await redis.set(`${key}:count`, '10')
    const client = createArbiterClient({ address: arbiter.address, defaultDeadlineMs: 10_000 })
    // Phase 2 waits after the decision: meanwhile another writer makes the INCRBY impossible.
    configureFailpoints('after-decision=sleep:2000')
    try {
      let gtrid = ''
      const outcome = client
        .transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.execute('pg', 'INSERT INTO accounts VALUES (901, 1)')
          await tx.execute('cache', 'SET', [`${key}:name`, 'alice'])
          await tx.execute('cache', 'INCRBY', [`${key}:count`, 5])
        })
        .then(() => undefined, (e: unknown) => e)
      await expect.poll(async () => (gtrid === '' ? '' : (await client.getTransaction(gtrid)).state), { timeout: 5_000, interval: 20 }).toBe('COMMITTING')
      await redis.set(`${key}:count`, 'not a number')
      const error = await outcome
      expect(error).toBeInstanceOf(HeuristicOutcomeError)
      expect((error as Error).message).toMatch(/cache.*applied in part/)
      // What was applied stays applied; what failed did not happen.
      expect(await redis.get(`${key}:name`)).toBe('alice')
      expect(await redis.get(`${key}:count`)).toBe('not a number')
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 901')).length).toBe(1)
      const info = await client.getTransaction(gtrid)
      expect(info.state).toBe('HEURISTIC')
      // Nothing of this transaction is left prepared or locked on Redis (other test files share the prefix).
      expect((await redis.smembers('arbiter:prepared')).filter((m) => pgGidToXid(m)?.gtrid.toString() === gtrid)).toEqual([])
      expect(await redis.keys(`arbiter:lock:${key}*`)).toEqual([])

      // After a restart the log still says so (found by hostile testing: it had kept only the decision and an
      // END that said committed, so the restarted TM answered COMMITTED).
      await arbiter.stop()
      const again = await startTestArbiter(resources, { dataDir: arbiter.dataDir, nodeId: parseGtrid(gtrid).nodeId })
      const client2 = createArbiterClient({ address: again.address, defaultDeadlineMs: 10_000 })
      try {
        const recalled = await client2.getTransaction(gtrid)
        expect(recalled.state).toBe('HEURISTIC')
        expect(recalled.abortReason).toMatch(/cache.*committed in part/)
      } finally {
        client2.close()
        await again.stopAndClean()
      }
    } finally {
      configureFailpoints(undefined)
      client.close()
      await arbiter.stopAndClean()
    }
  })

  it('the same with a local branch beside it (the answer comes before phase 2 ends): HeuristicOutcomeError, never OK', async () => {
    // Found by review: with local branches Commit answers once the managed branches are done, in state COMMITTING,
    // and a managed Redis branch committed in part was answered OK.
    const arbiter = await startTestArbiter([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: sharedServerUrls().redisUrl },
    ])
    const key = `partial-local:${Date.now()}`
    await redis.set(`${key}:count`, '10')
    const client = createArbiterClient({ address: arbiter.address, defaultDeadlineMs: 10_000 })
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    configureFailpoints('after-decision=sleep:2000')
    try {
      let gtrid = ''
      const outcome = client
        .transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.enlist('pg', pgConn)
          await pgConn.query('INSERT INTO accounts VALUES (902, 1)')
          await tx.execute('cache', 'INCRBY', [`${key}:count`, 5])
        })
        .then(() => undefined, (e: unknown) => e)
      await expect.poll(async () => (gtrid === '' ? '' : (await client.getTransaction(gtrid)).state), { timeout: 5_000, interval: 20 }).toBe('COMMITTING')
      await redis.set(`${key}:count`, 'not a number')
      const error = await outcome
      expect(error).toBeInstanceOf(HeuristicOutcomeError)
      expect((error as Error).message).toMatch(/cache.*applied in part/)
      // The local branch is committed all the same (the decision is COMMIT), by the TM after its grace at the latest.
      await expect.poll(async () => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 902')).length, { timeout: 15_000 }).toBe(1)
    } finally {
      configureFailpoints(undefined)
      client.close()
      await pgConn.end().catch(() => undefined)
      await arbiter.stopAndClean()
    }
  })
})
