// The cluster parts' results (issue #23): the postgres store against raw 2PC
// and the file store, store commits per transaction, two nodes against one,
// and takeover time; the ratios with their spread over rounds, and the
// issue's targets. Pure: no I/O.
import type { TargetCheck } from './result.js'
import { checkOf } from './main-targets.js'
import { ratioSpread, spreadOf, type Goal, type Spread } from './spread.js'

/** The ways a transfer runs in the cluster part: the workload (workload.ts), the decision-log store, and how many TM nodes serve it. */
export const CLUSTER_VARIANTS = ['raw-2pc', 'file-enlist', 'pg-enlist', 'pg2-enlist', 'file-execute', 'pg-execute', 'pg2-execute'] as const
export type ClusterVariant = (typeof CLUSTER_VARIANTS)[number]

export interface ClusterVariantInfo {
  readonly label: string
  readonly workload: 'raw-2pc' | 'tm-enlist' | 'tm-execute'
  readonly store: 'none' | 'file' | 'postgres'
  readonly nodes: 0 | 1 | 2
}

export const CLUSTER_VARIANT_INFO: Record<ClusterVariant, ClusterVariantInfo> = {
  'raw-2pc': { label: 'raw 2PC (no TM)', workload: 'raw-2pc', store: 'none', nodes: 0 },
  'file-enlist': { label: 'local branches, file store', workload: 'tm-enlist', store: 'file', nodes: 1 },
  'pg-enlist': { label: 'local branches, postgres store', workload: 'tm-enlist', store: 'postgres', nodes: 1 },
  'pg2-enlist': { label: 'local branches, postgres store, 2 nodes', workload: 'tm-enlist', store: 'postgres', nodes: 2 },
  'file-execute': { label: 'through the TM, file store', workload: 'tm-execute', store: 'file', nodes: 1 },
  'pg-execute': { label: 'through the TM, postgres store', workload: 'tm-execute', store: 'postgres', nodes: 1 },
  'pg2-execute': { label: 'through the TM, postgres store, 2 nodes', workload: 'tm-execute', store: 'postgres', nodes: 2 },
}

export interface ClusterCell {
  readonly variant: ClusterVariant
  readonly concurrency: number
  /** Committed transfers in the measured windows (all rounds). */
  readonly committed: number
  readonly seconds: number
  readonly tps: number
  /** Throughput of each measured round, in round order (a round runs every variant once, shuffled). */
  readonly roundTps: readonly number[]
  readonly p50Ms: number
  readonly p99Ms: number
  /** Failed transfers by reason. */
  readonly failed: Readonly<Record<string, number>>
  /** CPU of the TM process(es) serving it per committed transfer, ms; null without a TM. */
  readonly tmCpuMsPerTx: number | null
  /**
   * Commits of the store's database per committed transfer, from the store
   * PostgreSQL's own pg_stat_database.xact_commit (every commit there: decision
   * batches, lease renewals, takeover scans, reads), null off the postgres store.
   */
  readonly storeCommitsPerTx: number | null
  readonly storeCommitsPerTxRounds: readonly number[]
  /** Arbiter's own count of its decision-log writes (arbiter_decision_log_fsyncs_total) per committed transfer, for comparison. */
  readonly logWritesPerTx: number | null
  /** CPU of the store's PostgreSQL server per committed transfer, ms (only when the store has a server of its own). */
  readonly storeCpuMsPerTx: number | null
  /** The longest event-loop stall of a node serving it during its measured windows, ms. */
  readonly eventLoopLagMaxMs: number | null
  /** Share of the machine's CPU busy during its windows, 0…1. */
  readonly machineBusy: number | null
}

export interface ClusterResult {
  /** Where the store lives, one sentence. */
  readonly store: string
  /** True when the store is a PostgreSQL server of its own (not the bench's, whose branches it would compete with). */
  readonly separateStore: boolean
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  readonly concurrencies: readonly number[]
  readonly twoNodeConcurrencies: readonly number[]
  readonly rounds: number
  readonly roundSeconds: number
  readonly warmupSeconds: number
  /** Seconds of load every lane ran once before the first warm-up (options.ts); absent in results written before it existed. */
  readonly jitWarmupSeconds?: number
  /** Connections per pool to the branch databases: the bench's own and each TM's. */
  readonly pgPool: number
  readonly mysqlPool: number
  readonly cells: readonly ClusterCell[]
  readonly balancesConserved: boolean
  readonly preparedLeft: number
}

export interface TakeoverRound {
  readonly node: string
  /** Its transactions with a logged decision (to be committed by the taker) and without one (to be presumed aborted). */
  readonly decided: number
  readonly undecided: number
  /** Its prepared branches in both databases when it was killed. */
  readonly preparedBranches: number
  /** What was left of its lease at the kill, by the store's clock. */
  readonly leaseLeftMs: number | null
  /** SIGKILL → the store shows it taken over. */
  readonly takenOverMs: number | null
  /** SIGKILL → none of its branches is prepared in either database (pg_prepared_xacts, XA RECOVER); null: not within the wait. */
  readonly finishedMs: number | null
  /** Every decided transfer is in both databases' ledgers, every other in neither. */
  readonly outcomesRight: boolean
}

export interface TakeoverResult {
  /** Where the store lives, one sentence. */
  readonly store: string
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  /** Why this lease: the trade between false takeovers and blocking time, with this run's stall figure. */
  readonly leaseWhy: string
  readonly rounds: readonly TakeoverRound[]
}

export function clusterCell(result: Pick<ClusterResult, 'cells'>, variant: ClusterVariant, concurrency: number): ClusterCell | undefined {
  return result.cells.find((c) => c.variant === variant && c.concurrency === concurrency)
}

/**
 * a's throughput ÷ b's: the ratio of the totals, and its spread over rounds
 * (round i of a against round i of b: they ran in the same round, minutes
 * apart at most). Undefined when either is missing or b has none.
 */
export function tpsRatio(a: ClusterCell | undefined, b: ClusterCell | undefined): Spread | undefined {
  return a && b ? ratioSpread(a.tps, a.roundTps, b.tps, b.roundTps) : undefined
}

/** Σ commits ÷ Σ transfers over spans, and each span's own ratio. Undefined when no transfer was counted. */
export function perTransaction(spans: readonly { readonly commits: number; readonly transfers: number }[]): Spread | undefined {
  const commits = spans.reduce((n, s) => n + s.commits, 0)
  const transfers = spans.reduce((n, s) => n + s.transfers, 0)
  if (transfers <= 0) return undefined
  return spreadOf(
    commits / transfers,
    spans.filter((s) => s.transfers > 0).map((s) => s.commits / s.transfers),
  )
}

/** The median of a non-empty list. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

/** Issue #23's targets, from what the run measured (n/a for a part it skipped). */
export function clusterTargets(cluster: ClusterResult | undefined, takeover: TakeoverResult | undefined): TargetCheck[] {
  const checks: TargetCheck[] = []
  // Judged round by round, as issue #24's targets are (main-targets.ts): met only when every round meets the goal.
  const check = (what: string, goal: Goal, s: Spread | undefined, digits = 2, unit = '×'): void => {
    checks.push(checkOf(what, goal, s, { digits, goalDigits: 2, unit }))
  }
  if (cluster) {
    const cs = cluster.concurrencies
    const c32 = cs.includes(32) ? 32 : cs[0]
    const cHigh = cs.includes(128) ? 128 : cs.length ? Math.max(...cs) : undefined
    const at = (v: ClusterVariant, c: number | undefined): ClusterCell | undefined => (c === undefined ? undefined : clusterCell(cluster, v, c))
    check(`postgres store, local branches: throughput vs raw 2PC at c=${c32}`, { op: '≥', limit: 0.85 }, tpsRatio(at('pg-enlist', c32), at('raw-2pc', c32)))
    // The worse of the two one-node variants, as the fsyncs target of issue #9 takes the worst TM variant.
    const commits = (['pg-enlist', 'pg-execute'] as const)
      .map((v) => at(v, cHigh))
      .filter((c): c is ClusterCell => c !== undefined && c.storeCommitsPerTx !== null)
      .sort((a, b) => b.storeCommitsPerTx! - a.storeCommitsPerTx!)[0]
    check(
      `postgres store: store commits per transaction at c=${cHigh} (worse of local branches, through the TM${commits ? `: ${CLUSTER_VARIANT_INFO[commits.variant].label}` : ''})`,
      { op: '≤', limit: 0.1 },
      commits ? spreadOf(commits.storeCommitsPerTx!, commits.storeCommitsPerTxRounds) : undefined,
      3,
      '',
    )
    const c2 = cluster.twoNodeConcurrencies.includes(32) ? 32 : cluster.twoNodeConcurrencies[0]
    for (const [two, one, what] of [
      ['pg2-enlist', 'pg-enlist', 'local branches'],
      ['pg2-execute', 'pg-execute', 'through the TM'],
    ] as const) {
      check(`two nodes vs one (postgres store), ${what}: throughput at c=${c2}`, { op: '≥', limit: 0.9 }, tpsRatio(at(two, c2), at(one, c2)))
    }
  }
  if (takeover) {
    const finished = takeover.rounds.map((r) => r.finishedMs)
    const all = finished.every((f): f is number => f !== null)
    const worst = all && finished.length > 0 ? Math.max(...finished) : undefined
    const goal = takeover.leaseMs + 2000
    checks.push({
      what: `takeover: SIGKILL → the node's prepared branches finished in both databases (lease ${takeover.leaseMs} ms, worst of ${finished.length})`,
      goal: `≤ ${(goal / 1000).toFixed(1)} s`,
      measured: worst === undefined ? (finished.length ? 'not finished' : 'n/a') : `${(worst / 1000).toFixed(2)} s`,
      met: finished.length === 0 ? undefined : worst !== undefined && worst <= goal && takeover.rounds.every((r) => r.outcomesRight),
    })
  }
  return checks
}
