// The TMs a nemesis run drives: one node on its own disk (the file store),
// or a cluster of nodes on a shared PostgreSQL store that runs on a server
// of its own (so the nemesis can kill and pause it without touching the
// bank's databases).
import { createDatabase, startPostgres, type TestServer } from '../../harness/index.js'
import { ArbiterProcess, testConfig, type TestResources } from '../../helpers/test-arbiter.js'
import type { ArbiterConfigInput } from '../../../server/config.js'

export interface ClusterShape {
  readonly nodes: number
  /** cluster.leaseMs: short, so that takeovers happen within a run. */
  readonly leaseMs: number
}

export interface TmNodes {
  readonly nodes: readonly ArbiterProcess[]
  readonly store?: { readonly server: TestServer; readonly dbUrl: string; readonly leaseMs: number }
  destroy(): Promise<void>
}

export async function startTmNodes(resources: TestResources, overrides: Partial<ArbiterConfigInput>, cluster?: ClusterShape): Promise<TmNodes> {
  if (!cluster) {
    const tm = await ArbiterProcess.start(testConfig(resources, overrides))
    return { nodes: [tm], destroy: () => tm.destroy() }
  }
  const server = await startPostgres()
  const nodes: ArbiterProcess[] = []
  const destroy = async (): Promise<void> => {
    await Promise.allSettled(nodes.map((n) => n.destroy()))
    await server.destroy()
  }
  try {
    const dbUrl = await createDatabase(server.url, 'store')
    const shared = { log: { store: 'postgres' as const, url: dbUrl }, cluster: { leaseMs: cluster.leaseMs, takeoverIntervalMs: Math.round(cluster.leaseMs / 4) } }
    // One at a time: the first creates the store's tables (the others would wait on its lock anyway).
    for (let i = 0; i < cluster.nodes; i++) nodes.push(await ArbiterProcess.start(testConfig(resources, { ...overrides, ...shared, nodeId: `nemesis${i}x${Math.random().toString(36).slice(2, 6)}` })))
    return { nodes, store: { server, dbUrl, leaseMs: cluster.leaseMs }, destroy }
  } catch (error) {
    await destroy()
    throw error
  }
}
