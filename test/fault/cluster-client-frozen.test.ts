// A node frozen (SIGSTOP: its sockets stay open, its channel looks READY,
// nothing answers) must not keep getting new transactions. Found by hostile
// testing: with two nodes and one frozen for 12 s, 3 of 6 sequential run()
// calls went to the frozen node, each failing after the whole deadline (one
// as OutcomeUnknownError for a run that never ran). Now: the client's
// keepalive sees the frozen connection, the node is skipped until it answers
// a probe, and a failed node is skipped for longer each time. The lease is
// long here so that no takeover happens while the node is frozen: what is
// tested is the client's routing, not the cluster's takeover.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError, type ArbiterClient } from '../../client/index.js'
import { nodeOf } from '../../client/node-set.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { ArbiterProcess } from '../helpers/test-arbiter.js'

const LEASE_MS = 30_000
const DEADLINE_MS = 3000

let dbs: TestDatabases
let storeUrl: string
let store: pg.Pool
const nodes: ArbiterProcess[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'clusterfrozen')
  storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'cfstore')
  store = new pg.Pool({ connectionString: storeUrl, max: 2 })
  for (let i = 0; i < 2; i++) nodes.push(await ArbiterProcess.start(clusterNodeConfig(dbs, storeUrl, { leaseMs: LEASE_MS })))
})

afterAll(async () => {
  for (const n of nodes) {
    try {
      n.resume()
    } catch {
      // not running
    }
  }
  await Promise.all(nodes.map((n) => n.destroy()))
  await store?.end()
  await dbs?.close()
})

async function landed(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

interface Told {
  readonly id: number
  readonly via: 'run' | 'transaction'
  readonly ms: number
  readonly node: string
  readonly error?: string
  readonly unknownGtrid?: string
}

/** Sequential new transactions, run() and transaction() in turn: where each went, how long it took, how it ended. */
async function sequential(client: ArbiterClient, ids: number[]): Promise<Told[]> {
  const told: Told[] = []
  for (const id of ids) {
    const via = id % 2 === 0 ? 'run' : 'transaction'
    const began = Date.now()
    let gtrid = ''
    try {
      if (via === 'run') {
        const { transaction } = await client.run([
          { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [id] },
          { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [id] },
        ])
        gtrid = transaction.gtrid
      } else {
        await client.transaction(async (tx) => {
          gtrid = tx.gtrid
          await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [id])
          await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [id])
        })
      }
      told.push({ id, via, ms: Date.now() - began, node: nodeOf(gtrid) })
    } catch (error) {
      const unknownGtrid = error instanceof OutcomeUnknownError ? error.metadata.gtrid : undefined
      told.push({
        id,
        via,
        ms: Date.now() - began,
        node: nodeOf(unknownGtrid ?? gtrid),
        error: `${(error as Error).name}: ${(error as Error).message}`,
        ...(unknownGtrid !== undefined && { unknownGtrid }),
      })
    }
  }
  return told
}

function show(label: string, told: Told[]): void {
  console.log(`${label}:\n${told.map((t) => `  ${t.id} ${t.via} on ${t.node || '?'} ${t.ms} ms ${t.error ?? 'committed'}`).join('\n')}`)
}

describe('a client of two nodes, one frozen (SIGSTOP)', () => {
  it('frozen while the client is idle: every new transaction goes to the other node, well within the deadline', async () => {
    const [frozen, other] = [nodes[0]!, nodes[1]!]
    const client = createArbiterClient({ addresses: [frozen.address, other.address], defaultDeadlineMs: DEADLINE_MS })
    try {
      // Both nodes in use (and known: later transactions are named here, Begin riding on their first request).
      const warm = await sequential(client, [1, 2, 3, 4, 5, 6])
      expect(warm.filter((t) => t.error)).toEqual([])
      expect(new Set(warm.map((t) => t.node))).toEqual(new Set([frozen.config.nodeId, other.config.nodeId]))

      frozen.pause()
      // The client's keepalive (5 s + 3 s) sees the frozen connection without sending it any work.
      await new Promise((resolve) => setTimeout(resolve, 12_000)) // 8 s at most, with room for a loaded machine
      const told = await sequential(client, [11, 12, 13, 14, 15, 16, 17, 18])
      show('frozen while idle', told)
      expect(told.filter((t) => t.error)).toEqual([])
      expect(told.filter((t) => t.node !== other.config.nodeId)).toEqual([])
      for (const t of told) expect(t.ms).toBeLessThan(DEADLINE_MS) // never waiting out a deadline on the frozen node
      for (const t of told) expect(await landed(t.id)).toEqual({ pg: 1, maria: 1 })

      // Resumed: once it answers again it gets new transactions again.
      frozen.resume()
      await expect
        .poll(async () => (await sequential(client, [Math.floor(Math.random() * 1e6) + 1000])).map((t) => t.node)[0], { timeout: 40_000, interval: 200 })
        .toBe(frozen.config.nodeId)
    } finally {
      frozen.resume()
      client.close()
    }
  })

  it('frozen with work under way: at most the first transaction sent to it fails (never a wrong outcome), every later one commits on the other node quickly', async () => {
    const [frozen, other] = [nodes[0]!, nodes[1]!]
    const client = createArbiterClient({ addresses: [frozen.address, other.address], defaultDeadlineMs: DEADLINE_MS })
    try {
      const warm = await sequential(client, [101, 102, 103, 104])
      expect(warm.filter((t) => t.error)).toEqual([])

      frozen.pause()
      const told = await sequential(client, [111, 112, 113, 114, 115, 116, 117, 118])
      show('frozen with work under way', told)
      const failed = told.filter((t) => t.error)
      // The one sent to the frozen node before the client could know: it may have been taken in, so
      // OutcomeUnknownError (naming the frozen node's gtrid) or an error saying it was not run.
      expect(failed.length).toBeLessThanOrEqual(1)
      for (const t of failed) {
        expect(told.indexOf(t)).toBeLessThanOrEqual(1) // the first one round robin sends to the frozen node
        if (t.unknownGtrid !== undefined) expect(nodeOf(t.unknownGtrid)).toBe(frozen.config.nodeId)
        expect(await landed(t.id)).toEqual({ pg: 0, maria: 0 })
      }
      const ok = told.filter((t) => !t.error)
      expect(ok.length).toBeGreaterThanOrEqual(told.length - 1)
      for (const t of ok) {
        expect(t.node).toBe(other.config.nodeId)
        expect(await landed(t.id)).toEqual({ pg: 1, maria: 1 })
      }
      // After the first failure every transaction took well under the deadline.
      const afterFirst = told.slice(told.findIndex((t) => t.error) + 1)
      for (const t of afterFirst) expect(t.ms).toBeLessThan(DEADLINE_MS)
    } finally {
      frozen.resume()
      client.close()
    }
  })
})
