// A graceful stop of a cluster node whose shared store is paused while a
// Commit's decision is on its way to it. Found by hostile testing:
// - the drain rolled that Commit's branches back when the grace ended, as if it
//   were before its decision; the store, once resumed within the lease, took
//   the decision, and the restarted node reported COMMITTED for rows that were
//   in neither database;
// - the stop waited for the store for as long as it stayed paused (50 s, until
//   it came back), well past the bound the docs give a supervisor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../client/index.js'
import { createDatabase, sharedServerUrls, startPostgres, whyNotControllable, type TestServer } from '../harness/index.js'
import { clusterNodeConfig } from '../helpers/cluster-config.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess } from '../helpers/test-arbiter.js'
import { tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
const nodes: ArbiterProcess[] = []
const servers: TestServer[] = []
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'stop_store_paused')
})
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await Promise.all(servers.map((s) => s.stop().catch(() => undefined)))
  await dbs?.close()
})

async function rows(id: number): Promise<{ pg: number; maria: number }> {
  return {
    pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length,
    maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])).length,
  }
}

/** A node on a store server of its own (so the test can pause it), with a two-branch transaction ready to commit. */
async function nodeWithReadyTransaction(id: number, leaseMs: number) {
  const store = await startPostgres()
  servers.push(store)
  const node = await ArbiterProcess.start(clusterNodeConfig(dbs, await createDatabase(store.url, 'store'), { leaseMs }))
  nodes.push(node)
  const client = tmClient(node.address)
  const { gtrid } = await client.tm.Begin({})
  const params = [{ intValue: String(id) }]
  await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params } })
  await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params } })
  return { store, node, client, gtrid }
}

/** What the restarted node says of `gtrid` once recovery has run: its state, or the client's error name. */
async function restartAndAsk(node: ArbiterProcess, gtrid: string): Promise<string> {
  await node.spawn()
  const client = createArbiterClient({ addresses: [node.address] })
  try {
    const preparedLeft = async (): Promise<number> => {
      const left = await dbs.preparedLeft(node.config.nodeId!)
      return left.pg.length + left.mysql.length
    }
    await expect.poll(preparedLeft, { timeout: 15_000 }).toBe(0)
    return await client.getTransaction(gtrid).then(
      (t) => t.state,
      (error: Error) => error.name,
    )
  } finally {
    client.close()
  }
}

describe('a graceful stop while the shared store is paused', () => {
  it('a Commit whose decision is on its way stays prepared, not rolled back: the store takes the decision, and the restart commits both branches', async (ctx) => {
    if (whyNotControllable('postgres') !== undefined) return ctx.skip()
    const { store, node, client, gtrid } = await nodeWithReadyTransaction(71, 10_000)
    await store.pause()
    const pausedAt = Date.now()
    const told = client.tm.Commit({ gtrid }).then(
      (r) => `answered ${r.transaction?.state}`,
      (e: { code?: number }) => `error ${e.code}`,
    )
    await new Promise((r) => setTimeout(r, 300))
    const stopped = node.stop()
    // Back within the lease: the decision statement the store was sent runs now.
    await new Promise((r) => setTimeout(r, Math.max(0, 6000 - (Date.now() - pausedAt))))
    await store.resume()
    await stopped
    expect(await told).not.toBe('answered TRANSACTION_STATE_ROLLED_BACK')
    client.close()
    expect(await restartAndAsk(node, gtrid)).toBe('COMMITTED')
    expect(await rows(71)).toEqual({ pg: 1, maria: 1 })
  })

  it('the stop ends within its bound while the store stays paused; the outcome, once it is back, is whole', async (ctx) => {
    if (whyNotControllable('postgres') !== undefined) return ctx.skip()
    const { store, node, client, gtrid } = await nodeWithReadyTransaction(72, 3_000)
    await store.pause()
    const told = client.tm.Commit({ gtrid }).then(
      () => 'answered',
      () => 'error',
    )
    await new Promise((r) => setTimeout(r, 300))
    const sigterm = Date.now()
    const exited = await Promise.race([node.stop().then(() => Date.now() - sigterm), new Promise<string>((r) => setTimeout(() => r('still running after 30 s'), 30_000))])
    // docs/running-a-node.md: the grace (2 s here), up to 5 s for Commits under way, 3 s for a rollback behind a
    // stuck session, 3 s for the pools, 3 s for the shared store.
    expect(typeof exited === 'number' && exited < 2000 + 14_000 + 2000 ? 'bounded' : exited).toBe('bounded')
    await told
    client.close()
    await store.resume()
    const state = await restartAndAsk(node, gtrid)
    const landed = await rows(72)
    // Whichever way the store settled the decision, both databases agree with what the node says.
    expect([landed, state === 'COMMITTED']).toEqual(landed.pg === 1 ? [{ pg: 1, maria: 1 }, true] : [{ pg: 0, maria: 0 }, false])
  })
})
