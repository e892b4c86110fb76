// The node's identity and, on the shared store, its place in the cluster:
// lease, epoch, members seen, leases lost, takeovers and how long they took.
// Every node exports its own; a dashboard sums or picks by `node`.
//
// Nothing here does I/O at scrape time: the members gauge reads what the
// last takeover pass saw (it lists every node's lease each interval anyway),
// so a scrape never waits on a store that does not answer.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client'
import type { NodeLease } from '../cluster/node-lease.js'
import type { Takeover } from '../cluster/takeover.js'

/** Takeover start to the end of the recovery pass after it: seconds to minutes. */
const TAKEOVER_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]

/** arbiter_node_info{node, store} 1: joins any series of this process to its node id. */
export function registerNodeInfo(registry: Registry, nodeId: string, store: string): void {
  new Gauge({ name: 'arbiter_node_info', help: 'This node: its nodeId and decision-log store (always 1)', labelNames: ['node', 'store'], registers: [registry] })
    .labels(nodeId, store)
    .set(1)
}

export interface ClusterMetrics {
  /** A takeover's recovery pass has run: `durationMs` since the takeover began. */
  takeoverFinished(durationMs: number): void
}

export function registerClusterMetrics(registry: Registry, lease: NodeLease, takeover: Takeover): ClusterMetrics {
  const registers = [registry]
  new Gauge({
    name: 'arbiter_cluster_lease_held',
    help: '1 while this node holds its lease in the shared store (by its last renewal)',
    registers,
    collect() {
      this.set(lease.held ? 1 : 0)
    },
  })
  new Gauge({
    name: 'arbiter_cluster_epoch',
    help: "This node's epoch in the shared store (0 while it rejoins); a takeover of this node moves it on",
    registers,
    collect() {
      this.set(lease.epoch)
    },
  })
  new Gauge({
    name: 'arbiter_cluster_members_live',
    help: 'Nodes with a live lease as this node last saw them (itself included while it holds its lease), every cluster.takeoverIntervalMs',
    registers,
    collect() {
      this.set(takeover.livePeers + (lease.held ? 1 : 0))
    },
  })
  new Counter({
    name: 'arbiter_cluster_leases_lost_total',
    help: 'Times this node found its lease taken over (it stopped deciding and rejoined at a new epoch)',
    registers,
    collect() {
      this.reset()
      this.inc(lease.lostCount)
    },
  })
  new Counter({
    name: 'arbiter_cluster_takeovers_total',
    help: 'Dead nodes this node took over',
    registers,
    collect() {
      this.reset()
      this.inc(takeover.totals.takeovers)
    },
  })
  new Counter({
    name: 'arbiter_cluster_takeover_transactions_total',
    help: 'Unfinished transactions moved to this node by its takeovers',
    registers,
    collect() {
      this.reset()
      this.inc(takeover.totals.moved)
    },
  })
  const duration = new Histogram({
    name: 'arbiter_cluster_takeover_duration_seconds',
    help: "A takeover's start to the end of the recovery pass that finished the taken node's work",
    buckets: TAKEOVER_BUCKETS,
    registers,
  })
  return { takeoverFinished: (durationMs) => duration.observe(durationMs / 1000) }
}
