// How long an application's prepared local branches can hold their row locks
// (issue #20.5; docs/running-a-node.md, "How long row locks can be held"). The transaction's
// deadline and recovery's grace period are both a minute here, so only the
// mechanism under test can explain a quick rollback:
// - the TM dies: its restart rolls back, before it listens, the orphans named
//   under its earlier run (a Commit of them can only be refused now);
// - the network splits (the client process stopped: no reset ever arrives):
//   the TM's keepalive pings find the silent client, its session ends, and
//   its transactions are rolled back after localBranchGraceMs. A MariaDB
//   branch stays attached to the client's connection while MariaDB keeps
//   that connection (its wait_timeout): only then can anyone finish it.
// (The application dying is test/integration/client/dead-application.test.ts.)
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, startTestArbiter, testConfig } from '../helpers/test-arbiter.js'
import { killClient, preparingClient } from '../helpers/preparing-client.js'

const SLOW = {
  transactions: { defaultTimeoutMs: 60_000, maxTimeoutMs: 120_000, localBranchGraceMs: 1000, retentionMs: 600_000 },
  recovery: { intervalMs: 500, graceMs: 60_000 },
}

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'lockhold')
})
afterAll(async () => {
  await dbs?.close()
})

/** A client process with both local branches prepared, hanging before its Commit. */
function preparedClient(address: string, id: number, env: Record<string, string> = {}) {
  return preparingClient({ address, dbs, id, mode: 'hang', timeoutMs: 60_000, env })
}

const killed = killClient

describe('row locks of prepared local branches', () => {
  it('the TM dies: its restart rolls back the orphans of its earlier run before it listens', async () => {
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      SLOW,
    )
    const tm = await ArbiterProcess.start(config)
    const { child, gtrid } = await preparedClient(tm.address, 501)
    try {
      const nodeId = gtrid.split(':')[0]!
      expect(await dbs.preparedLeft(nodeId)).toMatchObject({ pg: [expect.anything()], mysql: [expect.anything()] })
      await tm.kill()
      await new Promise((r) => setTimeout(r, 300))
      await tm.spawn()
      // PostgreSQL's branch is detached from its session: gone in the start-up pass.
      expect((await dbs.preparedLeft(nodeId)).pg).toEqual([])
      // MariaDB's stays attached to the client's connection while it lives; once the client is gone, the next pass.
      await killed(child)
      const gone = Date.now()
      await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 10_000, interval: 100 }).toEqual({ pg: [], mysql: [] })
      expect(Date.now() - gone).toBeLessThan(3000)
      expect(tm.logs()).toMatch(/named under an earlier run of this TM/)
    } finally {
      await killed(child).catch(() => undefined)
      await tm.destroy()
    }
  })

  it('the network splits (client stopped): found by keepalive, rolled back after localBranchGraceMs', async () => {
    const arbiter = await startTestArbiter(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { ...SLOW, keepalive: { timeMs: 1000, timeoutMs: 1000 } },
    )
    const { child, gtrid } = await preparedClient(arbiter.address, 502, { MYSQL_WAIT_TIMEOUT: '3' })
    try {
      const nodeId = gtrid.split(':')[0]!
      child.kill('SIGSTOP') // no FIN, no RST: only pings can tell
      const split = Date.now()
      // keepalive (1 s + 1 s) + grace (1 s) + a pass; MariaDB's branch once its wait_timeout (3 s) drops the connection.
      await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg, { timeout: 15_000, interval: 100 }).toEqual([])
      const pgFreed = Date.now() - split
      await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 15_000, interval: 100 }).toEqual({ pg: [], mysql: [] })
      const allFreed = Date.now() - split
      console.log(`network split: PostgreSQL branch rolled back after ${pgFreed} ms, MariaDB's after ${allFreed} ms`)
      expect(pgFreed).toBeLessThan(2000 + 1000 + 2500)
      expect(allFreed).toBeLessThan(3000 + 1000 + 2500)
    } finally {
      await killed(child)
      await arbiter.stopAndClean()
    }
  })
})
