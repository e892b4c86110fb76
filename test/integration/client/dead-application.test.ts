// An application that prepares its local branches and dies before its Commit
// reaches the TM (issue #20.5): the TM sees its session stream end, and rolls
// the branches back within transactions.localBranchGraceMs of that, not at
// the transaction's deadline plus recovery's grace period. Here both of those
// are a minute, so only the session's end can explain a quick rollback. A
// Commit that arrives afterwards is refused, never committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { killClient, lateCommit, preparingClient } from '../../helpers/preparing-client.js'

const GRACE_MS = 1000

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'deadapp')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    {
      transactions: { defaultTimeoutMs: 60_000, maxTimeoutMs: 120_000, localBranchGraceMs: GRACE_MS, retentionMs: 600_000 },
      recovery: { intervalMs: 60_000, graceMs: 60_000 },
    },
  )
})

afterAll(async () => {
  await arbiter?.stopAndClean()
  await dbs?.close()
})

async function preparedThenKilled(id: number, warm: boolean): Promise<{ gtrid: string; killedAt: number }> {
  const { child, gtrid } = await preparingClient({ address: arbiter.address, dbs, id, mode: 'hang', timeoutMs: 60_000, warm })
  const killing = killClient(child)
  const killedAt = Date.now()
  await killing
  return { gtrid, killedAt }
}

describe('an application that dies with its local branches prepared', () => {
  it.each([
    ['begun with Begin (the TM knows the transaction)', false, 401],
    ['named by the client (the TM has never heard of it)', true, 402],
  ] as const)('%s: rolled back within the grace of its session ending; a late Commit is refused', async (_what, warm, id) => {
    const { gtrid, killedAt } = await preparedThenKilled(id, warm)
    const nodeId = gtrid.split(':')[0]!
    expect(await dbs.preparedLeft(nodeId)).toMatchObject({ pg: [expect.anything()], mysql: [expect.anything()] })
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 15_000, interval: 100 }).toEqual({ pg: [], mysql: [] })
    const lockHeldMs = Date.now() - killedAt
    // The grace, one recovery pass, and the polling; far below the deadline (60 s) or recovery's grace (60 s).
    expect(lockHeldMs).toBeLessThan(GRACE_MS + 3000)
    expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).toHaveLength(0)
    const late = lateCommit(arbiter.coordinator, gtrid)
    await expect(late).rejects.toMatchObject({ code: 'TM_TX_ABORTED' })
  })
})
