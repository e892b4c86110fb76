// A node killed between its decision and phase 2, started again with one
// resource's url reaching another place: another Redis database, or the same
// Redis without the resource's arbiterPrefix. Found by hostile testing: phase 2
// by XID heard "unknown XID" there, took it as already committed and answered
// COMMITTED; the real branch stayed prepared, its decision's log segment was
// collected under ordinary traffic, and once the url was fixed the branch was
// presumed aborted: a half-done transfer nobody reported. Each branch of a
// decision now records which server it was prepared on (the resource's
// identity), and phase 2 believes "already done" only there: the transaction
// stays COMMITTING, saying why, and commits once the url is fixed.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
let redis: Redis
let base: string

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'repointed')
  base = sharedServerUrls().redisUrl.replace(/\/\d*$/, '')
  redis = new Redis(`${base}/0`)
})
afterAll(async () => {
  redis?.disconnect()
  await dbs?.close()
})

const text = (value: string) => ({ stringValue: value })

for (const variant of ['another database', 'no prefix'] as const) {
  describe(`a Redis resource re-pointed (${variant}) while a decision is unfinished`, () => {
    it('is never reported COMMITTED from the wrong place; the branch commits once the url is fixed', async () => {
      const prefix = `rp${Math.random().toString(36).slice(2, 8)}:`
      const goodUrl = `${base}/0?arbiterPrefix=${prefix}`
      const wrongUrl = variant === 'another database' ? `${base}/1?arbiterPrefix=${prefix}` : `${base}/0`
      const key = `repointed-${Math.random().toString(36).slice(2, 8)}`
      const id = 900 + (variant === 'no prefix' ? 1 : 0)
      const config = testConfig(
        [
          { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
          { name: 'cache', kind: 'redis', url: goodUrl },
        ],
        { log: { segmentBytes: 4096 } },
      )
      const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
      const client = tmClient(tm.address)
      try {
        const { gtrid } = await client.tm.Begin({})
        await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(id) }] } })
        await client.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [text(key), text('v')] } })
        await client.tm.Commit({ gtrid }).catch(() => undefined) // dies after logging its decision
        await tm.exited()

        await tm.spawn({ ARBITER_FAILPOINTS: '', ARBITER_RESOURCES__1__URL: wrongUrl })
        await new Promise((resolve) => setTimeout(resolve, 2_500))
        const waiting = await client.tm.GetTransaction({ gtrid })
        expect(waiting.state).toBe('TRANSACTION_STATE_COMMITTING')
        expect(waiting.branches.find((b) => b.resource === 'cache')?.lastError).toMatch(/resource "cache" now reaches another server or database than the one this branch was prepared on/)
        expect(await redis.get(key)).toBeNull()
        // Ordinary traffic meanwhile, enough to roll the log's segments over: the open decision keeps its own.
        for (let i = 0; i < 40; i++) {
          const t = await client.tm.Begin({})
          await client.tm.Execute({ gtrid: t.gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } })
          await client.tm.Execute({ gtrid: t.gtrid, statement: { resource: 'cache', sql: 'SET', params: [text(`${key}-${i}`), text('x')] } })
          await client.tm.Commit({ gtrid: t.gtrid })
        }
        await tm.stop()

        await tm.spawn() // the url fixed
        await expect.poll(() => redis.get(key), { timeout: 15_000 }).toBe('v')
        expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length).toBe(1)
        await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 10_000 }).toBe('TRANSACTION_STATE_COMMITTED')
      } finally {
        client.close()
        await tm.destroy()
      }
    })
  })
}
