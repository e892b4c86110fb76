// waitFor 'applied' (the default) across a node's stop: a transaction whose
// node stopped after its decision, before phase 2, resolves once its rows are
// visible. Found by hostile testing: the client asked another node, heard
// COMMITTING (decided, phase 2 not done) and resolved at once; the rows
// appeared seconds later, when that node had taken the stopped one over.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../client/index.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess } from '../helpers/test-arbiter.js'

let dbs: TestDatabases
let store: pg.Pool
const nodes: ArbiterProcess[] = []
let storeUrl: string
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'applied_after_stop')
  storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'applied_store')
  store = new pg.Pool({ connectionString: storeUrl, max: 1 })
})
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await store?.end()
  await dbs?.close()
})

async function rows(id: number): Promise<{ pg: number; maria: number }> {
  return {
    pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length,
    maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])).length,
  }
}

describe("waitFor 'applied' when the transaction's node stops between its decision and phase 2", () => {
  it('resolves once both branches are committed, learned from the other node', async () => {
    // A holds its Commits between the decision and phase 2; B takes A over once A has stopped.
    const a = await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: 1500 }), { ARBITER_FAILPOINTS: 'after-decision=sleep:20000' })
    nodes.push(a)
    const b = await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: 1500 }))
    nodes.push(b)
    const client = createArbiterClient({ addresses: [a.address, b.address] })
    try {
      let gtrid = ''
      const done = client.transaction(async (tx) => {
        gtrid = tx.gtrid
        await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [81])
        await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [81])
      })
      await expect.poll(async () => (await store.query('SELECT 1 FROM arbiter_transactions WHERE gtrid = $1', [gtrid])).rowCount, { timeout: 10_000 }).toBe(1)
      expect(gtrid.startsWith(`${a.config.nodeId}:`)).toBe(true)
      const stopped = a.stop()
      await done
      expect(await rows(81)).toEqual({ pg: 1, maria: 1 })
      await stopped
    } finally {
      client.close()
    }
  })
})
