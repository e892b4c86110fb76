// A client process that dies after preparing its local branches: the TM
// (its reaper, its grace for local branches, its recovery) must leave
// nothing prepared and the two databases consistent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { killClient, lateCommit, preparingClient } from '../../helpers/preparing-client.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'clientcrash')
  // testConfig: recovery graceMs 1000, intervalMs 500; local-branch grace 1 s.
  arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
})

afterAll(async () => {
  await arbiter?.stopAndClean()
  await dbs?.close()
})

/** Starts the client script; resolves with its gtrid once it printed PREPARED (both branches prepared). */
function clientUntilPrepared(mode: 'hang' | 'go', id: number, options: { warm?: boolean; timeoutMs?: number } = {}) {
  return preparingClient({ address: arbiter.address, dbs, id, mode, timeoutMs: options.timeoutMs ?? 2000, warm: options.warm })
}

const kill = killClient

async function rowsWithId(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

describe('a client process that dies after preparing its local branches', () => {
  it('killed before Commit: both branches are rolled back, nothing stays prepared', async () => {
    const { child, gtrid } = await clientUntilPrepared('hang', 301)
    const nodeId = gtrid.split(':')[0]!
    // Both branches really are prepared now (the MariaDB one is attached to the live client session).
    const before = await dbs.preparedLeft(nodeId)
    expect(before.pg).toHaveLength(1)
    expect(before.mysql).toHaveLength(1)
    await kill(child)
    // Deadline 2 s, then local-branch grace 1 s and recovery (interval 0.5 s, grace 1 s).
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
    expect(await rowsWithId(301)).toEqual({ pg: 0, maria: 0 })
    expect(arbiter.coordinator.get(gtrid).state).toBe('ROLLED_BACK')
  })

  it('a transaction the client named itself, killed before Commit: recovery rolls it back and no client can begin it afterwards', async () => {
    // A long deadline: what stops the late Commit below is recovery's claim, not the deadline.
    const { child, gtrid } = await clientUntilPrepared('hang', 303, { warm: true, timeoutMs: 60_000 })
    const nodeId = gtrid.split(':')[0]!
    expect(await dbs.preparedLeft(nodeId)).toMatchObject({ pg: [expect.anything()], mysql: [expect.anything()] })
    // The TM has never heard of it: Begin rode on the Commit that never came.
    expect(() => arbiter.coordinator.get(gtrid)).toThrow(/unknown transaction/)
    await kill(child)
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
    expect(await rowsWithId(303)).toEqual({ pg: 0, maria: 0 })
    // The same Commit arriving late (a client that was only slow) is refused, not committed over rolled-back branches.
    const late = lateCommit(arbiter.coordinator, gtrid)
    await expect(late).rejects.toMatchObject({ code: 'TM_TX_ABORTED', metadata: { beginRefused: 'true' } })
    await expect(late).rejects.toThrow(/presumed abort/)
  })

  it('killed around Commit: the outcome is atomic and nothing stays prepared', async () => {
    const { child, gtrid } = await clientUntilPrepared('go', 302)
    const nodeId = gtrid.split(':')[0]!
    await kill(child)
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
    const rows = await rowsWithId(302)
    expect(rows.pg).toBe(rows.maria)
    await expect.poll(() => arbiter.coordinator.get(gtrid).state, { timeout: 10_000 }).toBe(rows.pg === 1 ? 'COMMITTED' : 'ROLLED_BACK')
  })
})
