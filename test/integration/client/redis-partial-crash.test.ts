// A Redis branch committed in part (a key changed outside Arbiter between the
// decision and phase 2: redis-partial-commit.test.ts), and the TM SIGKILLed
// right after. Found by hostile testing: the branch's heuristic was logged (as
// an inPart resolution) in the background with END, after the Commit was
// answered, so a crash before that write left only the decision; the restarted
// TM re-committed the branch ("already done") and answered COMMITTED. Now
// finishedInPart (branch-finisher.ts) forces the record before phase 2 goes on.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromGrpcError } from '../../../client/errors.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases
let redis: Redis
const tms: ArbiterProcess[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'rpcrash')
  redis = new Redis(sharedServerUrls().redisUrl)
})
afterAll(async () => {
  await Promise.all(tms.map((tm) => tm.destroy()))
  redis?.disconnect()
  await dbs?.close()
})

const answer = (p: Promise<{ transaction?: { state?: string } | null }>): Promise<string> =>
  p.then((r) => `answered ${r.transaction?.state}`, (e: unknown) => fromGrpcError(e).code)
/** A call whose TM died under it: gRPC UNAVAILABLE, which the client names so. */
const DROPPED = 'TM_RM_UNAVAILABLE'

/**
 * A transaction on pg and Redis whose Redis commit applies only in part, on a TM
 * child with `crashAt` armed: what its Commit was answered, once the TM is dead.
 */
async function partialCommitThenCrash(id: number, crashAt: string): Promise<{ tm: ArbiterProcess; gtrid: string; key: string; first: string }> {
  // Phase 2 waits after the decision: meanwhile another writer makes the INCRBY impossible (the SET still applies).
  const tm = await ArbiterProcess.start(
    testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: sharedServerUrls().redisUrl },
    ]),
    { ARBITER_FAILPOINTS: `after-decision=sleep:2000;${crashAt}` },
  )
  tms.push(tm)
  const key = `rpcrash:${id}:${Date.now()}`
  await redis.set(`${key}:count`, '10')
  const c = tmClient(tm.address)
  try {
    const { gtrid } = await c.tm.Begin({})
    await c.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(id) }] } })
    await c.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [{ stringValue: `${key}:name` }, { stringValue: 'alice' }] } })
    await c.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'INCRBY', params: [{ stringValue: `${key}:count` }, { intValue: '5' }] } })
    const first = answer(c.tm.Commit({ gtrid }))
    await expect.poll(async () => (await c.tm.GetTransaction({ gtrid })).state, { timeout: 5_000, interval: 20 }).toBe('TRANSACTION_STATE_COMMITTING')
    await redis.set(`${key}:count`, 'not a number')
    const result = { tm, gtrid, key, first: await first }
    expect((await tm.exited()).signal).toBe('SIGKILL')
    // The crash came after the partial commit: what applied stays applied, the rest never happened.
    expect({ name: await redis.get(`${key}:name`), count: await redis.get(`${key}:count`) }).toEqual({ name: 'alice', count: 'not a number' })
    return result
  } finally {
    c.close()
  }
}

describe('a Redis branch committed in part, the TM killed right after', () => {
  it('killed before END (after the forced inPart record): HEURISTIC and TM_HEURISTIC_MIXED after the restart, never COMMITTED', async () => {
    const { tm, gtrid, first } = await partialCommitThenCrash(1, 'before-end=crash')
    expect(first).toBe(DROPPED) // killed before answering
    await tm.spawn() // without the fail points
    const c = tmClient(tm.address)
    try {
      const get = await c.tm.GetTransaction({ gtrid }).then((t) => String(t.state), (e: unknown) => fromGrpcError(e).code)
      const commitAgain = await answer(c.tm.Commit({ gtrid }))
      // Before the fix: TRANSACTION_STATE_COMMITTED and "answered TRANSACTION_STATE_COMMITTED".
      expect({ get, commitAgain }).toEqual({ get: 'TRANSACTION_STATE_HEURISTIC', commitAgain: 'TM_HEURISTIC_MIXED' })
    } finally {
      c.close()
    }
    expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
  })

  it('killed at the write of the inPart record itself (log write #2, the decision being #1): the caller was told nothing, never COMMITTED', async () => {
    // The one window left: the branch applied in part, its record not yet durable. The restarted TM cannot know
    // (the branch is gone from Redis, re-committing it is "already done": it reads COMMITTED), so no answer may
    // come before the record: the Commit's connection drops, outcome unknown, never an answer of COMMITTED.
    const { tm, first } = await partialCommitThenCrash(2, 'log-before-write#2=crash')
    expect(tm.logs()).toContain('fail point log-before-write fired')
    expect(first).toBe(DROPPED)
  })
})
