// A decided transaction one of whose branches sits on a server that is gone
// for good (here: a Redis server killed and deleted with its data). Phase 2
// can never finish that branch, so the transaction stayed COMMITTING for
// good, and no Admin call could end it: a resolution needs the branch listed
// prepared, which a lost server never does. An operator now abandons the
// branch (ResolveBranch, RESOLUTION_ABANDON, force): logged first, nothing
// sent to the server, and the transaction ends HEURISTIC (never COMMITTED:
// that branch is not known to have committed), also after a restart.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fromGrpcError } from '../../client/errors.js'
import { sharedServerUrls, startRedis, type TestServer } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
let lost: TestServer | undefined

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'abandon')
})
afterAll(async () => {
  await lost?.destroy()
  await dbs?.close()
})

const text = (value: string) => ({ stringValue: value })

/** A transaction writing row `id` on pg and a key on `cache`, its Commit sent (answered or not). */
async function decide(client: ReturnType<typeof tmClient>, id: number): Promise<string> {
  const { gtrid } = await client.tm.Begin({})
  await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(id) }] } })
  await client.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [text(`abandon-${id}`), text('v')] } })
  void client.tm.Commit({ gtrid }).catch(() => undefined)
  return gtrid
}

describe('abandoning a decided branch whose server is gone for good', () => {
  it('ends the transaction HEURISTIC, the other branches committed, and stays so after a restart', async () => {
    lost = await startRedis()
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: lost.url },
    ])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      const gtrid = await decide(client, 1)
      await tm.exited() // the decision is logged; no branch is committed yet
      await lost.destroy() // the Redis server and its data, gone for good

      await tm.spawn({ ARBITER_FAILPOINTS: '' })
      await expect.poll(async () => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length, { timeout: 15_000 }).toBe(1)
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_COMMITTING')

      // Without force: refused, saying what it costs.
      const unforced = await admin.ResolveBranch({ gtrid, resource: 'cache', resolution: 'RESOLUTION_ABANDON', reason: 'redis host lost' }).catch((e: unknown) => e)
      expect(fromGrpcError(unforced).code).toBe('TM_ILLEGAL_STATE')
      expect(fromGrpcError(unforced).message).toMatch(/ends HEURISTIC.*Set force/)

      const res = await admin.ResolveBranch({ gtrid, resource: 'cache', resolution: 'RESOLUTION_ABANDON', reason: 'redis host lost', force: true })
      expect(res.heuristic).toBe(true)
      expect(res.steps.map((s) => [s.resource, s.action])).toEqual([['cache', 'RECOVERY_ACTION_ABANDON']])

      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 10_000 }).toBe('TRANSACTION_STATE_HEURISTIC')
      const tx = await client.tm.GetTransaction({ gtrid })
      expect(tx.branches.find((b) => b.resource === 'cache')?.state).toBe('BRANCH_STATE_ABANDONED')
      expect(tx.branches.find((b) => b.resource === 'pg')?.state).toBe('BRANCH_STATE_COMMITTED')
      expect(tx.abortReason).toMatch(/abandoned/)
      // Asked again: nothing is left to abandon.
      const again = await admin.ResolveBranch({ gtrid, resolution: 'RESOLUTION_ABANDON', reason: 'again', force: true }).catch((e: unknown) => e)
      expect(fromGrpcError(again).code).toMatch(/TM_TX_NOT_FOUND|TM_ILLEGAL_STATE/)

      // The log says so after a restart: HEURISTIC, not COMMITTING (phase 2 is not started again), not COMMITTED.
      await tm.stop()
      await tm.spawn({ ARBITER_FAILPOINTS: '' })
      await new Promise((resolve) => setTimeout(resolve, 1_000))
      const after = await client.tm.GetTransaction({ gtrid })
      expect(after.state).toBe('TRANSACTION_STATE_HEURISTIC')
      expect(after.abortReason).toMatch(/abandoned .* redis host lost/)
      // The operators' views, from the log (found by hostile testing: the branch read ROLLED_BACK, and the HEURISTIC
      // list no longer had the transaction once it had ended and the node restarted).
      const shown = await admin.GetTransaction({ gtrid })
      expect(shown.branches.find((b) => b.resource === 'cache')?.state).toBe('BRANCH_STATE_ABANDONED')
      const listed = await admin.ListTransactions({ states: ['TRANSACTION_STATE_HEURISTIC'] })
      expect(listed.transactions.map((t) => t.transaction?.gtrid)).toContain(gtrid)
    } finally {
      close()
      client.close()
      await tm.destroy()
    }
  })

  it('a branch abandoned while its server did not answer, found prepared again, is committed by recovery as the decision says', async () => {
    const server = await startRedis()
    const redis = new Redis(server.url)
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: server.url },
    ])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      const gtrid = await decide(client, 3)
      await tm.exited()
      await server.pause() // taken for gone: connections hang, nothing answers
      await tm.spawn({ ARBITER_FAILPOINTS: '' })
      await expect.poll(async () => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 3')).length, { timeout: 15_000 }).toBe(1)
      const res = await admin.ResolveBranch({ gtrid, resource: 'cache', resolution: 'RESOLUTION_ABANDON', reason: 'host looks dead', force: true })
      expect(res.steps.map((s) => s.action)).toEqual(['RECOVERY_ACTION_ABANDON'])
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 10_000 }).toBe('TRANSACTION_STATE_HEURISTIC')

      await server.resume() // it was not gone after all
      await expect.poll(() => redis.get('abandon-3'), { timeout: 20_000 }).toBe('v')
      expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_HEURISTIC')
    } finally {
      redis.disconnect()
      close()
      client.close()
      await tm.destroy()
      await server.destroy()
    }
  })

  it('an abandon overtaken by phase 2 (the server answered after all) leaves a COMMITTED transaction COMMITTED', async () => {
    // Found by hostile testing: the abandon was judged while phase 2's commit hung on a frozen Redis; Redis woke, phase 2
    // committed and the caller was told COMMITTED; then the abandon was logged and the transaction read HEURISTIC.
    const server = await startRedis()
    const redis = new Redis(server.url)
    const tm = await ArbiterProcess.start(testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: server.url },
    ]), { ARBITER_FAILPOINTS: 'after-decision=sleep:3000' })
    const client = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (4, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [text('abandon-4'), text('v')] } })
      const commit = client.tm.Commit({ gtrid }).then((r) => String(r.transaction?.state), (e: unknown) => fromGrpcError(e).code)
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 5_000, interval: 50 }).toBe('TRANSACTION_STATE_COMMITTING')
      await server.pause()
      await new Promise((resolve) => setTimeout(resolve, 4_000)) // phase 2 under way: pg committed, the Redis commit hung
      const abandon = admin.ResolveBranch({ gtrid, resource: 'cache', resolution: 'RESOLUTION_ABANDON', reason: 'looks gone', force: true })
      await new Promise((resolve) => setTimeout(resolve, 500))
      await server.resume() // it was not gone: phase 2's commit goes through while the abandon looks at the branch
      const [told, abandoned] = await Promise.all([commit, abandon])
      console.log(`overtaken test: the caller was told ${told}`)
      expect(await redis.get('abandon-4')).toBe('v')
      const state = (await client.tm.GetTransaction({ gtrid })).state
      if (told === 'TRANSACTION_STATE_COMMITTED') {
        expect(state).toBe('TRANSACTION_STATE_COMMITTED')
        expect(abandoned.heuristic).toBe(false)
        expect(abandoned.steps[0]?.result).toMatch(/^not carried out: phase 2 committed the branch/)
        // And so after a restart, from the log.
        await tm.stop()
        await tm.spawn({ ARBITER_FAILPOINTS: '' })
        expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_COMMITTED')
      } else {
        // The abandon came first: the caller heard of it, never COMMITTED.
        expect(told).toBe('TM_HEURISTIC_MIXED')
        expect(state).toBe('TRANSACTION_STATE_HEURISTIC')
      }
    } finally {
      redis.disconnect()
      close()
      client.close()
      await tm.destroy()
      await server.destroy()
    }
  })

  it('is refused for a branch its server lists prepared, and for a transaction without a decision', async () => {
    const redis = sharedServerUrls().redisUrl
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'cache', kind: 'redis', url: redis },
    ])
    // Phase 2 is held after the decision: both branches are prepared on servers that answer.
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=sleep:6000' })
    const client = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      const gtrid = await decide(client, 2)
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 5_000, interval: 50 }).toBe('TRANSACTION_STATE_COMMITTING')
      const listed = await admin.ResolveBranch({ gtrid, resolution: 'RESOLUTION_ABANDON', reason: 'careless', force: true }).catch((e: unknown) => e)
      expect(fromGrpcError(listed).code).toBe('TM_ILLEGAL_STATE')
      expect(fromGrpcError(listed).message).toMatch(/is prepared on its server, which answers: it is not lost/)
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 15_000 }).toBe('TRANSACTION_STATE_COMMITTED')

      const open = await client.tm.Begin({})
      await client.tm.Execute({ gtrid: open.gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } })
      const undecided = await admin.ResolveBranch({ gtrid: open.gtrid, resolution: 'RESOLUTION_ABANDON', reason: 'careless', force: true }).catch((e: unknown) => e)
      expect(fromGrpcError(undecided).code).toBe('TM_ILLEGAL_STATE')
      expect(fromGrpcError(undecided).message).toMatch(/has no COMMIT decision/)
      expect((await client.tm.GetTransaction({ gtrid: open.gtrid })).state).toBe('TRANSACTION_STATE_ACTIVE')
    } finally {
      close()
      client.close()
      await tm.destroy()
    }
  })
})
