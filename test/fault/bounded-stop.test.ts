// A graceful stop (SIGTERM) ends within its promise — the grace, at most 5 s
// for Commits and phase 2s under way, a few seconds to give up sessions and
// pools that do not answer — and leaves nothing prepared that the node could
// have finished. Each case was found by hostile testing: a statement running
// on a full pool kept the stop waiting for it (40 s); a paused Redis made QUIT
// wait out its command timeout (16 s); a decided local branch the application
// never reported was left prepared when the grace was shorter than
// localBranchGraceMs; a MariaDB branch an operator rolled back by force after
// the decision was left prepared (its session destroyed under it).
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { xidFromParts, xidToPgGid } from '../../adapters/xid/xid.js'
import { fromGrpcError } from '../../client/errors.js'
import { createDatabase, sharedServerUrls, startRedis } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig, type TestResources } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'
import type { ArbiterConfigInput } from '../../server/config.js'

const GRACE_MS = 2000

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'boundedstop')
})
afterAll(async () => {
  await dbs?.close()
})

async function start(resources: TestResources, overrides: Partial<ArbiterConfigInput> = {}, env: Record<string, string> = {}) {
  const config = testConfig(resources, { shutdownGraceMs: GRACE_MS, log: { store: 'file' }, ...overrides })
  return { tm: await ArbiterProcess.start(config, env), nodeId: config.nodeId! }
}

/** SIGTERM; how long until the process exited (ms). */
async function timedStop(tm: ArbiterProcess): Promise<number> {
  const started = Date.now()
  await tm.stop()
  return Date.now() - started
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('a graceful stop keeps its promise', () => {
  it('a statement running on a full pool: the caller hears ABORTED, and the stop does not wait for the statement', async () => {
    const { tm } = await start([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 1 }])
    const client = tmClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({ timeoutMs: 60_000 })
      const running = client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT pg_sleep(40)' } }).then(() => 'ok', (e: unknown) => fromGrpcError(e).code)
      await sleep(500)
      // The grace (2 s), the 3 s a rollback waits behind the session, and slack for two shared cores.
      expect(await timedStop(tm)).toBeLessThan(9_000)
      expect(await running).toBe('TM_TX_ABORTED')
    } finally {
      client.close()
      await tm.destroy()
    }
  })

  it('a Redis server that does not answer (paused): the stop cuts its connection after a second', async () => {
    const redis = await startRedis()
    const { tm } = await start([{ name: 'cache', kind: 'redis', url: redis.url, connectTimeoutMs: 1000 }])
    try {
      await sleep(1000)
      await redis.pause()
      expect(await timedStop(tm)).toBeLessThan(GRACE_MS + 4_000)
    } finally {
      await redis.resume().catch(() => undefined)
      await tm.destroy()
      await redis.destroy()
    }
  })

  it('a decided local branch the application never reported is committed before exit, though its grace is longer than the stop\'s', async () => {
    const { tm, nodeId } = await start(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 5000, retentionMs: 600_000 } },
    )
    const client = tmClient(tm.address)
    const app = new pg.Client({ connectionString: dbs.pgUrl })
    await app.connect()
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (6001, 1)' } })
      const { xid } = await client.tm.Enlist({ gtrid, resource: 'pg' })
      const x = xidFromParts(xid!.formatId, Buffer.from(xid!.gtrid), Buffer.from(xid!.bqual))
      await app.query('BEGIN')
      await app.query('INSERT INTO accounts VALUES (6001, 1)')
      await app.query(`PREPARE TRANSACTION '${xidToPgGid(x)}'`)
      await client.tm.Commit({ gtrid, localVotes: [{ bqual: xid!.bqual, readOnly: false }] })
      // The application dies here: it never commits its branch nor reports it.
      await timedStop(tm)
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
      expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 6001')).toHaveLength(1)
    } finally {
      client.close()
      await app.end()
      await tm.destroy()
    }
  })

  it('a Commit whose PostgreSQL PREPARE waits on a lock past the grace is rolled back before the pools close: its MariaDB branch is not left prepared', async () => {
    // A database of its own: the server finishes the abandoned PREPARE once the lock is free, and that orphan
    // (rolled back by recovery at the node's next start) must not be counted against the other cases.
    const pgUrl = await createDatabase(sharedServerUrls().pgUrl, 'boundedstoplock')
    const other = new pg.Client({ connectionString: pgUrl })
    await other.connect()
    await other.query('CREATE TABLE deferred_unique (id int, CONSTRAINT deferred_unique_id UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)')
    const { tm, nodeId } = await start([
      { name: 'pg', kind: 'postgres', url: pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    const client = tmClient(tm.address)
    try {
      await other.query('BEGIN')
      await other.query('INSERT INTO deferred_unique VALUES (7)') // uncommitted: a PREPARE inserting 7 waits for it
      const { gtrid } = await client.tm.Begin({ timeoutMs: 60_000 })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (6003, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO deferred_unique VALUES (7)' } })
      const commit = client.tm.Commit({ gtrid }).then(() => 'answered', (e: unknown) => fromGrpcError(e).code)
      await sleep(800)
      // The grace, the 5 s Commits under way get, the 3 s the rollback waits behind the session, slack.
      expect(await timedStop(tm)).toBeLessThan(14_000)
      expect(await commit).toBe('TM_TX_ABORTED')
      expect((await dbs.preparedLeft(nodeId)).mysql).toEqual([])
      expect(await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 6003')).toEqual([])
    } finally {
      await other.query('ROLLBACK').catch(() => undefined)
      await other.end()
      client.close()
      await tm.destroy()
    }
  })

  it('a MariaDB branch rolled back by force after the decision is rolled back on its own session, not left prepared', async () => {
    const { tm, nodeId } = await start(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { recovery: { intervalMs: 60_000, graceMs: 1000 } }, // recovery quiet: what phase 2 does on its own
      { ARBITER_FAILPOINTS: 'after-decision=sleep:3000' },
    )
    const client = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (6002, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (6002, 1)' } })
      const commit = client.tm.Commit({ gtrid }).then(() => 'answered', (e: unknown) => fromGrpcError(e).code)
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 5_000, interval: 50 }).toBe('TRANSACTION_STATE_COMMITTING')
      const branch = (await admin.ListInDoubt({ resource: 'maria' })).branches.find((b) => b.gtrid === gtrid)
      expect(branch).toBeDefined()
      await admin.ResolveBranch({ resource: 'maria', xid: branch!.xid!, resolution: 'RESOLUTION_ROLLBACK', reason: 'forced', force: true })
      expect(await commit).toBe('TM_HEURISTIC_MIXED')
      await timedStop(tm)
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
      expect(await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 6002')).toEqual([])
    } finally {
      close()
      client.close()
      await tm.destroy()
    }
  })
})
