// A node that logged a COMMIT decision in shared store S1 and died, started
// again with log.url naming another store S2 (a typo'd database name, a
// copied staging config) and a fresh data folder (a container without a
// volume, so no marker of S1 is left). Found by hostile testing: its start-up
// recovery found no decision in S2 and presumed both branches aborted; put
// back on S1 it answered COMMITTED with neither row written. Now a branch its
// gtrid names from before the node first joined the store it runs on is
// never presumed aborted there, by it or by a node that takes it over: it
// waits, saying why, and the node back on S1 commits it. With its data folder
// kept, the node refuses to start on the other store at all.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'

const LEASE_MS = 1000

let dbs: TestDatabases
let s1: string
let s2: string
const nodes: ArbiterProcess[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'storeswitch')
  s1 = await createDatabase(sharedServerUrls().pgUrl, 'storeone')
  s2 = await createDatabase(sharedServerUrls().pgUrl, 'storetwo')
})
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await dbs?.close()
})

const freshDataDir = (): string => mkdtempSync(join(tmpdir(), 'arbiter-data-'))
const prepared = async (nodeId: string): Promise<number> => dbs.preparedLeft(nodeId).then((p) => p.pg.length + p.mysql.length)

describe('log.url switched to another store while a decision is unfinished', () => {
  it('with the data folder kept: the node refuses to start on the other store (exit 2, naming log.url), and starts on its own', async () => {
    const a = await ArbiterProcess.start(clusterNodeConfig(dbs, s1, { leaseMs: LEASE_MS }))
    nodes.push(a)
    await a.stop()
    const refused = await a.spawn({ ARBITER_LOG__URL: s2 }).then(
      () => 'started',
      (e: Error) => e.message,
    )
    expect(refused).toMatch(/exited \(2\) during start-up/)
    expect(refused).toMatch(/log\.url names another shared store than the one the data folder .* was last used with/)
    await a.spawn()
    expect(a.running).toBe(true)
    await a.destroy()
  })

  it('neither the node nor the node that takes it over presumes aborted what the first store holds committed', async () => {
    const a = await ArbiterProcess.start(clusterNodeConfig(dbs, s1, { leaseMs: LEASE_MS }), { ARBITER_FAILPOINTS: 'after-decision=crash' })
    nodes.push(a)
    const nodeId = a.config.nodeId!
    const client = tmClient(a.address)
    let gtrid: string
    try {
      ;({ gtrid } = await client.tm.Begin({}))
      const p = [{ intValue: '1' }]
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
      await client.tm.Commit({ gtrid }).catch(() => undefined) // A dies after logging its decision in S1
    } finally {
      client.close()
    }
    await a.exited()
    expect(await prepared(nodeId)).toBe(2)

    // On S2, with a fresh data folder: its recovery runs every 500 ms; the branches must stay prepared.
    await a.spawn({ ARBITER_FAILPOINTS: '', ARBITER_LOG__URL: s2, ARBITER_DATA_DIR: freshDataDir() })
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    expect(await prepared(nodeId)).toBe(2)
    const admin = adminClient(a.address)
    try {
      const why = (await admin.admin.ListInDoubt({})).branches.filter((b) => b.gtrid === gtrid).map((b) => b.why)
      expect(why).toHaveLength(2)
      for (const w of why) expect(w).toMatch(/named before this node's decision log was created .*when the node first joined it.*does log\.url name the store/)
    } finally {
      admin.close()
    }

    // A second node on S2 takes A over when A dies there: A's orphans from before A joined S2 are not S2's to presume aborted.
    const b = await ArbiterProcess.start(clusterNodeConfig(dbs, s2, { leaseMs: LEASE_MS }))
    nodes.push(b)
    await a.kill()
    await expect.poll(() => b.logs(), { timeout: 10_000 }).toContain('took over a node whose lease lapsed')
    await new Promise((resolve) => setTimeout(resolve, 2_000)) // several of B's recovery passes
    expect(await prepared(nodeId)).toBe(2)
    await b.destroy()

    // Back on S1 (its own data folder again): its decision is there, and both branches commit.
    await a.spawn({ ARBITER_FAILPOINTS: '' })
    await expect.poll(() => prepared(nodeId), { timeout: 15_000 }).toBe(0)
    expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
    expect((await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
    const back = tmClient(a.address)
    try {
      expect((await back.tm.GetTransaction({ gtrid })).state).toMatch(/COMMITT(ED|ING)/)
    } finally {
      back.close()
    }
  })
})
