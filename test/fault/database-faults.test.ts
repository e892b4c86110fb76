// Database servers fail under a running TM: killed (SIGKILL) and restarted,
// or paused (SIGSTOP) past the timeouts, in phase 1 and in phase 2; branch
// sessions killed from the server side while active and while prepared.
// Arbiter keeps the decision, finishes phase 2 once the server is back,
// aborts cleanly before the commit point, and says what is going on meanwhile.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, startMariadb, startPostgres, whyNotControllable, type TestServer } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../helpers/tm-client.js'

const skip = whyNotControllable('postgres') ?? whyNotControllable('mariadb')

describe.skipIf(skip !== undefined)('database faults', () => {
  let pgServer: TestServer
  let mariaServer: TestServer
  let dbs: TestDatabases
  let id = 0

  beforeAll(async () => {
    ;[pgServer, mariaServer] = await Promise.all([startPostgres(), startMariadb()])
    dbs = await createTestDatabases({ pgUrl: pgServer.url, mysqlUrl: mariaServer.url }, 'dbfault')
  })
  afterAll(async () => {
    await dbs?.close().catch(() => undefined)
    await Promise.all([pgServer?.destroy(), mariaServer?.destroy()])
  })

  async function withTm(
    failpoints: string,
    body: (ctx: { client: ReturnType<typeof tmClient>; tm: ArbiterProcess; nodeId: string }) => Promise<void>,
  ): Promise<void> {
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl, connectTimeoutMs: 1000 },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl, connectTimeoutMs: 1000 },
    ])
    const tm = await ArbiterProcess.start(config, failpoints ? { ARBITER_FAILPOINTS: failpoints } : {})
    const client = tmClient(tm.address)
    try {
      await body({ client, tm, nodeId: config.nodeId! })
    } finally {
      client.close()
      await tm.destroy()
    }
  }

  async function writeBoth(client: ReturnType<typeof tmClient>, timeoutMs = 20_000): Promise<{ gtrid: string; id: number; pgPid: number; mariaId: number }> {
    const n = ++id
    const { gtrid } = await client.tm.Begin({ timeoutMs })
    const p = [{ intValue: String(n) }]
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
    const pgPid = (await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT pg_backend_pid() AS pid' } })).result!.rows[0]!.values[0]!.intValue!
    const mariaId = (await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'SELECT CONNECTION_ID() AS id' } })).result!.rows[0]!.values[0]!.intValue!
    return { gtrid, id: n, pgPid: Number(pgPid), mariaId: Number(mariaId) }
  }

  async function rows(n: number): Promise<{ pg: number; maria: number }> {
    const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [n])
    const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [n])
    return { pg: p.length, maria: m.length }
  }

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  it('PostgreSQL killed in phase 2: the TM keeps the decision and commits once it is back', async () => {
    await withTm('after-decision=sleep:1500', async ({ client, nodeId }) => {
      const t = await writeBoth(client)
      const commit = client.tm.Commit({ gtrid: t.gtrid })
      await sleep(500) // inside the post-decision pause
      await pgServer.kill()
      await sleep(1500)
      const meanwhile = await client.tm.GetTransaction({ gtrid: t.gtrid })
      expect(meanwhile.state).toBe('TRANSACTION_STATE_COMMITTING')
      await pgServer.restart()
      const back = Date.now()
      expect((await commit).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      // The bound on lock holding when a database dies (docs/running-a-node.md): its downtime, then phase 2's next retry (at most 5 s apart).
      expect(Date.now() - back).toBeLessThan(5000 + 2000)
      expect(await rows(t.id)).toEqual({ pg: 1, maria: 1 })
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    })
  })

  it('MariaDB paused in phase 2 past the timeouts: status says COMMITTING, and it commits after SIGCONT', async () => {
    await withTm('after-decision=sleep:800', async ({ client, nodeId }) => {
      const t = await writeBoth(client, 1000)
      const commit = client.tm.Commit({ gtrid: t.gtrid })
      await sleep(300)
      await mariaServer.pause()
      await sleep(3000) // well past the transaction's 1 s deadline: a deadline never interrupts phase 2
      expect((await client.tm.GetTransaction({ gtrid: t.gtrid })).state).toBe('TRANSACTION_STATE_COMMITTING')
      await mariaServer.resume()
      expect((await commit).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await rows(t.id)).toEqual({ pg: 1, maria: 1 })
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    })
  })

  it('PostgreSQL killed in phase 1: the transaction aborts on both, retryable, nothing left prepared', async () => {
    await withTm('before-prepare=sleep:1000', async ({ client, nodeId }) => {
      const t = await writeBoth(client)
      const commit = grpcError(client.tm.Commit({ gtrid: t.gtrid }))
      await sleep(300)
      await pgServer.kill()
      const error = await commit
      expect(error.code).toBe(status.ABORTED)
      expect(error.details).toMatch(/"pg"/)
      await pgServer.restart()
      expect(await rows(t.id)).toEqual({ pg: 0, maria: 0 })
      await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 15_000 }).toEqual({ pg: [], mysql: [] })
    })
  })

  it('MariaDB paused in phase 1 past the deadline: ABORTED at the deadline (not when it wakes), nothing left prepared after SIGCONT', async () => {
    await withTm('before-prepare=sleep:300', async ({ client, nodeId }) => {
      const t = await writeBoth(client, 1500)
      const commit = grpcError(client.tm.Commit({ gtrid: t.gtrid }))
      await sleep(100)
      await mariaServer.pause()
      const started = Date.now()
      const error = await commit
      expect(error.code).toBe(status.ABORTED)
      expect(error.details).toMatch(/deadline/)
      expect(Date.now() - started).toBeLessThan(5000) // the deadline is 1.5 s: the stalled server must not hold the caller
      await mariaServer.resume()
      await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
      expect(await rows(t.id)).toEqual({ pg: 0, maria: 0 })
    })
  })

  it('branch sessions killed from the server side while active: the next statement aborts the transaction', async () => {
    await withTm('', async ({ client }) => {
      const a = await writeBoth(client)
      await dbs.pgQuery('SELECT pg_terminate_backend($1)', [a.pgPid])
      const e1 = await grpcError(client.tm.Execute({ gtrid: a.gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } }))
      expect(e1.code).toBe(status.ABORTED)
      const b = await writeBoth(client)
      await dbs.mysqlQuery(`KILL ${b.mariaId}`)
      const e2 = await grpcError(client.tm.Execute({ gtrid: b.gtrid, statement: { resource: 'maria', sql: 'SELECT 1' } }))
      expect(e2.code).toBe(status.ABORTED)
      expect(await rows(a.id)).toEqual({ pg: 0, maria: 0 })
      expect(await rows(b.id)).toEqual({ pg: 0, maria: 0 })
    })
  })

  it('branch sessions killed from the server side while prepared: phase 2 finishes from other sessions', async () => {
    await withTm('after-decision=sleep:1500', async ({ client, nodeId }) => {
      const t = await writeBoth(client)
      const commit = client.tm.Commit({ gtrid: t.gtrid })
      await sleep(500)
      await dbs.pgQuery('SELECT pg_terminate_backend($1)', [t.pgPid])
      await dbs.mysqlQuery(`KILL ${t.mariaId}`)
      expect((await commit).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await rows(t.id)).toEqual({ pg: 1, maria: 1 })
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    })
  })

  it('uses a fresh database per run so a killed server leaves nothing behind for other files', async () => {
    // Sanity check of the fixture itself: the dedicated servers still serve new databases after all the faults.
    const url = await createDatabase(pgServer.url, 'after_faults')
    expect(url).toMatch(/after_faults/)
  })
})
