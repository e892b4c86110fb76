// A node whose lease lapsed is taken over only by a node configured with
// every resource it has. Found by hostile testing: a node without one of them
// took over a decided transaction, committed the branch it could reach, and
// left the other prepared for good (no other node finishes a taken node's
// work, and an operator's resolve was refused as an unknown resource there).
// Now the lapsed node's work waits for a node with all of them, or for the
// node itself to come back, which finishes it.
import pg from 'pg'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'
import { runAdminCli } from '../integration/admin/cli.js'

const LEASE_MS = 1500

let dbs: TestDatabases
let storeUrl: string
let store: pg.Pool
const nodes: ArbiterProcess[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'missingres')
  storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'store')
  store = new pg.Pool({ connectionString: storeUrl, max: 2 })
})
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await store?.end()
  await dbs?.close()
})

/** A node with pg, and maria as given (cluster-config.ts). */
async function startNode(maria: 'real' | 'unreachable' | 'none', env: Record<string, string> = {}): Promise<ArbiterProcess> {
  const node = await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: LEASE_MS, maria }), env)
  nodes.push(node)
  return node
}

describe('takeover by a node that lacks a resource', () => {
  it('is not done: the decided transaction waits prepared, and its node, back, commits both branches', async () => {
    const a = await startNode('real', { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const b = await startNode('none')
    const client = tmClient(a.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      const p = [{ intValue: '1' }]
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
      await client.tm.Commit({ gtrid }).catch(() => undefined) // A dies after logging its decision
      await a.exited()
      // Well past A's lease and several of B's takeover passes.
      await expect.poll(() => b.logs(), { timeout: 10_000 }).toMatch(/not taking it over/)
      await new Promise((resolve) => setTimeout(resolve, LEASE_MS))
      const row = await store.query<{ taken_over_by: string | null }>('SELECT taken_over_by FROM arbiter_nodes WHERE node_id = $1', [a.config.nodeId])
      expect(row.rows[0]?.taken_over_by).toBeNull()
      expect(JSON.parse(b.logs().split('\n').find((l) => l.includes('not taking it over'))!)).toMatchObject({ takenNodeId: a.config.nodeId, missing: ['maria'] })
      const left = await dbs.preparedLeft(a.config.nodeId!)
      expect({ pg: left.pg.length, mysql: left.mysql.length }).toEqual({ pg: 1, mysql: 1 })

      // Asked at B, in-doubt says A is down and nothing finishes the branch yet, not "node A commits it".
      const admin = adminClient(b.address)
      try {
        const branch = (await admin.admin.ListInDoubt({})).branches.find((x) => x.gtrid === gtrid)
        expect(branch).toMatchObject({ resource: 'pg', node: a.config.nodeId, knowledge: 'LOG_KNOWLEDGE_COMMITTED', action: 'RECOVERY_ACTION_NONE', nodeLive: false })
        expect(branch?.why).toMatch(/its lease lapsed and no node has taken it over yet/)
      } finally {
        admin.close()
      }
      const table = await runAdminCli(['--address', b.address, '--no-color', 'in-doubt'])
      expect(table.stdout.replace(/\s+/g, ' ')).toContain(`waits: node ${a.config.nodeId} is down and not yet taken over; committed (decision in the shared store)`)
      expect(table.stdout).not.toContain(`node ${a.config.nodeId} commits it`)

      await a.spawn() // back: its decision is its own to carry out
      await expect.poll(() => dbs.preparedLeft(a.config.nodeId!), { timeout: 15_000 }).toEqual({ pg: [], mysql: [] })
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
      expect((await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
    } finally {
      client.close()
      await Promise.all(nodes.splice(0).map((n) => n.destroy())) // gone, so no node of theirs takes the next test's over
    }
  })

  it("the taken node, back while the taker cannot reach a resource, shows that branch as the taker's to finish, not its own to roll back", async () => {
    // Found by hostile testing: in-doubt on the restarted node said NO_DECISION, "will roll back", for a committed
    // transaction the other node held and was retrying, inviting an operator to roll its branch back.
    const a = await startNode('real', { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const b = await startNode('unreachable')
    const client = tmClient(a.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      const p = [{ intValue: '2' }]
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
      await client.tm.Commit({ gtrid }).catch(() => undefined)
      await a.exited()
      // B takes A over and commits the branch it reaches; its MariaDB is unreachable, so that branch stays prepared.
      await expect.poll(async () => (await dbs.preparedLeft(a.config.nodeId!)).pg.length, { timeout: 15_000 }).toBe(0)
      await a.spawn({ ARBITER_FAILPOINTS: '' })
      const admin = adminClient(a.address)
      try {
        const branch = await expect
          .poll(async () => (await admin.admin.ListInDoubt({})).branches.find((x) => x.gtrid === gtrid), { timeout: 10_000 })
          .toBeDefined()
          .then(async () => (await admin.admin.ListInDoubt({})).branches.find((x) => x.gtrid === gtrid)!)
        expect(branch).toMatchObject({ resource: 'maria', node: b.config.nodeId, knowledge: 'LOG_KNOWLEDGE_COMMITTED', action: 'RECOVERY_ACTION_NONE' })
        expect(branch.why).toMatch(/held by node .* in the shared store \(commit\): its recovery finishes it/)
        expect(branch.nodeLive).toBe(true)
      } finally {
        admin.close()
      }
      // A's recovery leaves it alone too: it is still prepared, for B to commit once it reaches MariaDB.
      expect((await dbs.preparedLeft(a.config.nodeId!)).mysql.length).toBe(1)
    } finally {
      client.close()
    }
  })

  it('a node whose resource of the same name reaches another Redis database does not take it over; the node, back, commits', async () => {
    // Found by hostile testing: B took A over, heard "unknown XID" in its own Redis database, and answered COMMITTED
    // while A's branch stayed prepared in A's database for good.
    const base = sharedServerUrls().redisUrl.replace(/\/\d*$/, '')
    const prefix = `mr${Math.random().toString(36).slice(2, 8)}:`
    const config = (db: number) =>
      testConfig(
        [
          { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
          { name: 'cache', kind: 'redis', url: `${base}/${db}?arbiterPrefix=${prefix}` },
        ],
        { log: { store: 'postgres', url: storeUrl }, cluster: { leaseMs: LEASE_MS, takeoverIntervalMs: 300 } },
      )
    const a = await ArbiterProcess.start(config(0), { ARBITER_FAILPOINTS: 'after-decision=crash' })
    nodes.push(a)
    const b = await ArbiterProcess.start(config(2))
    nodes.push(b)
    const redis = new Redis(`${base}/0`)
    const key = `mr-${Math.random().toString(36).slice(2, 8)}`
    const client = tmClient(a.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: '3' }] } })
      await client.tm.Execute({ gtrid, statement: { resource: 'cache', sql: 'SET', params: [{ stringValue: key }, { stringValue: 'v' }] } })
      await client.tm.Commit({ gtrid }).catch(() => undefined)
      await a.exited()
      await expect.poll(() => b.logs(), { timeout: 10_000 }).toMatch(/resources that reach other servers or databases than this node's of the same name|decided branches on servers this node's resources of the same name do not reach/)
      const row = await store.query<{ taken_over_by: string | null }>('SELECT taken_over_by FROM arbiter_nodes WHERE node_id = $1', [a.config.nodeId])
      expect(row.rows[0]?.taken_over_by).toBeNull()
      expect(await redis.get(key)).toBeNull()

      await a.spawn() // back: its decision is its own to carry out, in its own Redis database
      await expect.poll(() => redis.get(key), { timeout: 15_000 }).toBe('v')
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 3')).length).toBe(1)
    } finally {
      redis.disconnect()
      client.close()
      await Promise.all(nodes.splice(0).map((n) => n.destroy()))
    }
  })

  it("a node whose pg reaches another database does not take over a node with an undecided orphan; the node, back, rolls it back", async () => {
    // Found by hostile testing: B took A over, rolled back the MariaDB half of A's orphan, and left its PostgreSQL
    // half prepared in A's database, holding its row lock, seen by no live node (B lists only its own database).
    const other = await createDatabase(sharedServerUrls().pgUrl, 'missingother')
    const config = (pgUrl: string) =>
      testConfig(
        [
          { name: 'pg', kind: 'postgres', url: pgUrl },
          { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
        ],
        { log: { store: 'postgres', url: storeUrl }, cluster: { leaseMs: LEASE_MS, takeoverIntervalMs: 300 } },
      )
    const a = await ArbiterProcess.start(config(dbs.pgUrl), { ARBITER_FAILPOINTS: 'before-decision=crash' })
    nodes.push(a)
    const b = await ArbiterProcess.start(config(other))
    nodes.push(b)
    const client = tmClient(a.address)
    try {
      // A's renewals record where its resources reach (once known): wait for one that says so.
      await expect.poll(async () => (await store.query('SELECT resource_tags FROM arbiter_nodes WHERE node_id = $1', [a.config.nodeId])).rows[0]?.resource_tags, { timeout: 10_000 }).toHaveProperty('pg')
      const { gtrid } = await client.tm.Begin({})
      const id = [{ intValue: '4' }]
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: id } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: id } })
      await client.tm.Commit({ gtrid }).catch(() => undefined) // A dies with both branches prepared, no decision
      await a.exited()
      await expect.poll(() => b.logs(), { timeout: 10_000 }).toMatch(/resources that reach other servers or databases than this node's of the same name/)
      await new Promise((resolve) => setTimeout(resolve, 2 * LEASE_MS))
      const row = await store.query<{ taken_over_by: string | null }>('SELECT taken_over_by FROM arbiter_nodes WHERE node_id = $1', [a.config.nodeId])
      expect(row.rows[0]?.taken_over_by).toBeNull()
      // Not half rolled back: both halves wait, prepared, for a node that reaches them.
      const left = await dbs.preparedLeft(a.config.nodeId!)
      expect([left.pg.length, left.mysql.length]).toEqual([1, 1])

      await a.spawn({ ARBITER_FAILPOINTS: '' }) // back: its own orphan, presumed aborted on both
      await expect.poll(() => dbs.preparedLeft(a.config.nodeId!), { timeout: 15_000 }).toEqual({ pg: [], mysql: [] })
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 4')).length).toBe(0)
    } finally {
      client.close()
      await Promise.all(nodes.splice(0).map((n) => n.destroy()))
    }
  })
})
