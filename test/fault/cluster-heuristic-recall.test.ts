// A mixed outcome without a decision, asked of every node of a three-node
// cluster on a shared PostgreSQL store. On node A a Commit is held after its
// prepares, an operator forces COMMIT of its pg branch, and the Commit misses
// its deadline and rolls MariaDB back: HEURISTIC, with no decision logged,
// only the forced resolution. Then A is SIGKILLed and taken over. Found by
// hostile testing: the other nodes answered from the store only for a logged
// decision, so once A was taken over they (and A, restarted) said NOT_FOUND,
// "presumed aborted", for a transaction whose pg branch had committed.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgGidToXid } from '../../adapters/xid/xid.js'
import { fromGrpcError } from '../../client/errors.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'

const LEASE_MS = 1000

let dbs: TestDatabases
let store: pg.Pool
const nodes: ArbiterProcess[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'clrecall')
  const storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'clrstore')
  store = new pg.Pool({ connectionString: storeUrl, max: 1 })
  // A holds every Commit after its prepares, long enough for the operator and past the transaction's deadline.
  nodes.push(await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: LEASE_MS }), { ARBITER_FAILPOINTS: 'after-prepare=sleep:4000' }))
  for (let i = 0; i < 2; i++) nodes.push(await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: LEASE_MS })))
})
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await store?.end()
  await dbs?.close()
})

/** What `node` says of `gtrid`: GetTransaction's state, and what a repeated Commit hears. */
async function view(node: ArbiterProcess, gtrid: string): Promise<{ get: string; commitAgain: string }> {
  const c = tmClient(node.address)
  try {
    const get = await c.tm.GetTransaction({ gtrid }).then((t) => String(t.state), (e: unknown) => fromGrpcError(e).code)
    const commitAgain = await c.tm.Commit({ gtrid }).then((r) => `answered ${r.transaction?.state}`, (e: unknown) => fromGrpcError(e).code)
    return { get, commitAgain }
  } finally {
    c.close()
  }
}

const HEURISTIC = { get: 'TRANSACTION_STATE_HEURISTIC', commitAgain: 'TM_HEURISTIC_MIXED' }

describe('a HEURISTIC transaction without a decision, in a cluster', () => {
  it('every node answers HEURISTIC and TM_HEURISTIC_MIXED, before and after its node is killed and taken over, and after it restarts', async () => {
    const [a, b, c] = nodes as [ArbiterProcess, ArbiterProcess, ArbiterProcess]
    const nodeId = a.config.nodeId!
    const client = tmClient(a.address)
    let gtrid = ''
    try {
      ;({ gtrid } = await client.tm.Begin({ timeoutMs: 2500 }))
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      const first = client.tm.Commit({ gtrid }).then((r) => `answered ${r.transaction?.state}`, (e: unknown) => fromGrpcError(e).code)
      await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg.length, { timeout: 5_000, interval: 50 }).toBe(1)
      // The operator commits the pg branch by hand while the Commit is held; its deadline then rolls the rest back.
      const xid = pgGidToXid((await dbs.preparedLeft(nodeId)).pg[0]!)!
      const { admin, close } = adminClient(a.address)
      try {
        await admin.ResolveBranch({ resource: 'pg', xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }, resolution: 'RESOLUTION_COMMIT', reason: 'forced', force: true })
      } finally {
        close()
      }
      expect(await first).toBe('TM_HEURISTIC_MIXED')
    } finally {
      client.close()
    }
    const truth = async () => ({
      pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length,
      maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length,
    })
    expect(await truth()).toEqual({ pg: 1, maria: 0 })

    // Every view, gathered and compared at once (so a failure shows them all). A live: B and C answer from the
    // store, a mixing resolution counting as a decision would. Taken over: before the fix, NOT_FOUND there.
    const views: Record<string, unknown> = {}
    const ask = async (when: string, named: Record<string, ArbiterProcess>) => {
      for (const [name, node] of Object.entries(named)) views[`${when}: ${name}`] = await view(node, gtrid)
    }
    await ask('A live', { A: a, B: b, C: c })
    await a.kill()
    const owner = async () => (await store.query<{ owner: string }>('SELECT owner FROM arbiter_transactions WHERE gtrid = $1', [gtrid])).rows[0]?.owner
    await expect.poll(owner, { timeout: 15_000, interval: 200 }).not.toBe(nodeId)
    await ask('A taken over', { B: b, C: c })
    await a.spawn() // without the fail point: A restarts under its own node id, and holds the transaction no more
    await ask('A restarted', { A: a, B: b, C: c })
    expect(views).toEqual(Object.fromEntries(Object.keys(views).map((k) => [k, HEURISTIC])))
    // Nobody drove it anywhere meanwhile: the operator's commit stands, MariaDB stays rolled back.
    expect(await truth()).toEqual({ pg: 1, maria: 0 })
  })
})
