// Two live TMs given one node id (a copied config, the default "arbiter-1"
// twice, a file-store node given a cluster member's id). Presumed abort
// assumes a node's undecided branches are its own orphans: the second TM's
// start-up recovery used to roll back the first one's prepared branches
// (named "under an earlier run"), the first then committed over the gap and
// answered COMMITTED with nothing written. Now each node holds its id at
// every resource (adapters/node-id-claim.ts): the second is refused at each
// one, says who holds the id, touches nothing, and takes the resources once
// the first is gone.
import { status } from '@grpc/grpc-js'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeIdLockKey } from '../../adapters/node-id-claim.js'
import { ARBITER_FORMAT_ID, makeXid, newGtrid, xidToPgGid } from '../../adapters/xid/xid.js'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { adminClient, grpcError, tmClient } from '../helpers/tm-client.js'

describe('two live TMs with one node id', () => {
  let dbs: TestDatabases
  let redisUrl = ''
  const started: ArbiterProcess[] = []

  beforeAll(async () => {
    const urls = sharedServerUrls()
    dbs = await createTestDatabases(urls, 'dupnode')
    redisUrl = urls.redisUrl
  })
  afterAll(async () => {
    await Promise.all(started.map((tm) => tm.destroy()))
    await dbs?.close()
  })

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

  it("the second is refused at every resource and leaves the first one's prepared transaction alone; it takes over once the first is gone", async () => {
    const resources = [
      { name: 'pg', kind: 'postgres' as const, url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql' as const, url: dbs.mysqlUrl },
      { name: 'cache', kind: 'redis' as const, url: `${redisUrl}?arbiterPrefix=dupnode${Math.random().toString(36).slice(2, 8)}:` },
    ]
    // Both on their own file logs, as two separately deployed nodes are (the shared store would refuse the second itself).
    const first = testConfig(resources, { log: { store: 'file' } })
    const nodeId = first.nodeId!
    // The first TM holds its transaction prepared, undecided, long enough for the second to start and run recovery.
    const a = await ArbiterProcess.start(first, { ARBITER_FAILPOINTS: 'after-prepare=sleep:12000' })
    started.push(a)
    const ca = tmClient(a.address)
    const { gtrid } = await ca.tm.Begin({ timeoutMs: 60_000 })
    await ca.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 10)' } })
    await ca.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (1, 10)' } })
    await ca.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [{ stringValue: 'dupnode-key' }, { stringValue: '10' }] } })
    const commit = ca.tm.Commit({ gtrid })
    void commit.catch(() => undefined) // awaited below; not unhandled if an assertion fails first
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 5_000, interval: 50 }).toMatchObject({ pg: [expect.any(String)], mysql: [expect.any(String)] })

    const b = await ArbiterProcess.start(testConfig(resources, { log: { store: 'file' }, nodeId }))
    started.push(b)
    const { admin, close } = adminClient(b.address)
    const cb = tmClient(b.address)
    try {
      const { resources: states } = await admin.ListResources({})
      for (const r of states) {
        expect(r.state, r.name).toBe('RESOURCE_STATE_REFUSED')
        expect(r.error).toContain(`node id "${nodeId}" is in use at resource "${r.name}" by another live session`)
      }
      // PostgreSQL names the holder's process: the operator can find the other TM.
      expect(states.find((r) => r.name === 'pg')?.error).toMatch(new RegExp(`application "arbiter ${nodeId} [0-9a-f]{8} pid \\d+ on `))
      expect(b.logs()).toContain('resource refused')

      // Recovery passes run every 500 ms on the second TM meanwhile: the first one's branches stay prepared.
      await sleep(1500)
      expect(await dbs.preparedLeft(nodeId)).toMatchObject({ pg: [expect.any(String)], mysql: [expect.any(String)] })

      // Nothing new begins on the second either.
      const other = await cb.tm.Begin({})
      const refused = await grpcError(cb.tm.Execute({ gtrid: other.gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } }))
      expect(refused.code).toBe(status.UNAVAILABLE)
      expect(refused.details).toContain(`node id "${nodeId}" is in use`)
      await cb.tm.Rollback({ gtrid: other.gtrid })

      // The first TM's transaction commits whole: the one promise.
      expect((await commit).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await dbs.pgQuery('SELECT balance FROM accounts WHERE id = 1')).toEqual([{ balance: '10' }])
      expect(await dbs.mysqlQuery('SELECT balance FROM accounts WHERE id = 1')).toEqual([{ balance: 10 }])
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })

      // The first stops: the second holds the id at every resource within one recheck, and works.
      ca.close()
      await a.stop()
      await expect
        .poll(async () => (await admin.ListResources({})).resources.map((r) => r.state), { timeout: 15_000, interval: 250 })
        .toEqual(['RESOURCE_STATE_READY', 'RESOURCE_STATE_READY', 'RESOURCE_STATE_READY'])
      const next = await cb.tm.Begin({})
      await cb.tm.Execute({ gtrid: next.gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (2, 5)' } })
      await cb.tm.Execute({ gtrid: next.gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (2, 5)' } })
      expect((await cb.tm.Commit({ gtrid: next.gtrid })).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    } finally {
      close()
      cb.close()
      ca.close()
    }
  })

  it('a claim lost while running and found taken by another session: the resource is refused and its orphans are left alone until the id is back', async () => {
    const config = testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], { log: { store: 'file' } })
    const nodeId = config.nodeId!
    const tm = await ArbiterProcess.start(config)
    started.push(tm)
    const { admin, close } = adminClient(tm.address)
    const impostor = new pg.Client({ connectionString: dbs.pgUrl, application_name: 'impostor' })
    impostor.on('error', () => undefined)
    await impostor.connect()
    // Named by this node id under this run and unknown to its log (a gtrid named before the log was created
    // is never presumed aborted: recovery.ts), so a holder of the id presumes it aborted after the grace.
    const orphanGid = xidToPgGid(makeXid(newGtrid(nodeId), 'b1'))
    try {
      // The TM's claim session is killed, and another session takes the id before the TM asks again.
      const killed = await impostor.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1', [`arbiter ${nodeId} % pid %`])
      expect(killed.rowCount).toBe(1)
      await impostor.query('SELECT pg_advisory_lock($1, $2)', [ARBITER_FORMAT_ID, nodeIdLockKey(nodeId)])
      const pgState = async () => (await admin.ListResources({})).resources.find((r) => r.name === 'pg')
      await expect.poll(async () => (await pgState())?.state, { timeout: 10_000, interval: 100 }).toBe('RESOURCE_STATE_REFUSED')
      expect((await pgState())?.error).toContain('application "impostor"')
      expect(tm.logs()).toContain('node id claim lost')

      // A prepared branch named by this node id and unknown to its log: presumed aborted by a holder, so not here.
      const c = new pg.Client({ connectionString: dbs.pgUrl })
      await c.connect()
      await c.query('BEGIN')
      await c.query('INSERT INTO accounts VALUES (100, 1)')
      await c.query(`PREPARE TRANSACTION '${orphanGid}'`)
      await c.end()
      await sleep(2000) // four recovery passes
      expect((await dbs.preparedLeft(nodeId)).pg).toContain(orphanGid)

      // The other session lets go: the TM holds the id again within one recheck, and recovers its orphan.
      await impostor.query('SELECT pg_advisory_unlock($1, $2)', [ARBITER_FORMAT_ID, nodeIdLockKey(nodeId)])
      await expect.poll(async () => (await pgState())?.state, { timeout: 15_000, interval: 250 }).toBe('RESOURCE_STATE_READY')
      await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg, { timeout: 10_000, interval: 250 }).toEqual([])
      expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 100')).toEqual([])
    } finally {
      close()
      await impostor.end().catch(() => undefined)
    }
  })
})
