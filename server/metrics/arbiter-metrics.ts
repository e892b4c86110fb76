// Arbiter's Prometheus metrics (prom-client, a registry of its own, not the
// global one). The series names are a contract: dashboards and the
// benchmark read them (docs/operations.md, "Metrics").
//
// Cost on the commit path: one counter increment or histogram observation
// per event, on label children created once and cached here (no label
// hashing, no I/O). Everything that must look around (transaction gauges,
// decision-log counters) is computed in collect(), at scrape time; resource
// health is read by a timer every metrics.resourceRefreshMs, never by a call.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client'
import type { Coordinator } from '../coordinator/coordinator.js'
import type { CoordinatorObserver, TxOutcome } from '../coordinator/observer.js'
import type { ResourceRegistry } from '../coordinator/resource-registry.js'
import type { Transaction } from '../coordinator/transaction.js'
import type { DecisionLog } from '../log/decision-log.js'
import type { RecoveryReport } from '../recovery/recovery.js'

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1]
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]
const OUTCOMES: readonly TxOutcome[] = ['committed', 'rolled_back', 'heuristic', 'unknown']
const PATHS = ['one-phase', 'read-only', 'two-phase', 'none'] as const

/** What collect() looks at; attached once the parts exist (start-up builds them in order). */
export interface MetricSources {
  readonly coordinator: Coordinator
  readonly log: DecisionLog
  readonly resources: ResourceRegistry
  readonly stuckAfterMs: number
}

interface ResourceSnapshot {
  up: boolean
  poolInUse: number
  preparedBranches: number
  /** What the resource does not tell is absent, never 0 (MariaDB has no prepared-transaction limit to report). */
  poolSize: number | undefined
  preparedHeadroom: number | undefined
}

export class ArbiterMetrics implements CoordinatorObserver {
  readonly registry = new Registry()
  private sources: MetricSources | undefined
  private readonly finishedOnce = new WeakSet<Transaction>()
  private readonly heuristicOnce = new WeakSet<Transaction>()
  private readonly finishedChildren = new Map<string, Counter.Internal>()
  private readonly resourceSnapshots = new Map<string, ResourceSnapshot>()
  private refreshTimer: NodeJS.Timeout | undefined

  private readonly begunTotal: Counter
  private readonly finishedTotal: Counter<'outcome' | 'path'>
  private readonly commitDuration: Histogram
  private readonly phase1Duration: Histogram
  private readonly appendDuration: Histogram
  private readonly phase2Duration: Histogram
  private readonly batchSize: Histogram
  private readonly heuristicTotal: Counter
  private readonly resourceErrors: Counter<'resource' | 'class'>
  private readonly recoveryRuns: Counter
  private readonly recoveryActions: Counter<'action'>
  private readonly recoveryFailures: Counter<'resource' | 'action'>
  /** Why the node is not ready (readiness.ts), read at scrape time; set once the metrics port is up. */
  notReady: () => string | undefined = () => 'starting'

  constructor() {
    const registers = [this.registry]
    collectDefaultMetrics({ register: this.registry })
    this.begunTotal = new Counter({ name: 'arbiter_transactions_begun_total', help: 'Transactions begun', registers })
    this.finishedTotal = new Counter({
      name: 'arbiter_transactions_finished_total',
      help: 'Transactions finished, by outcome and commit path (none: rolled back before a path was chosen)',
      labelNames: ['outcome', 'path'],
      registers,
    })
    for (const outcome of OUTCOMES) {
      for (const path of PATHS) this.finishedChildren.set(`${outcome}|${path}`, this.finishedTotal.labels(outcome, path))
    }
    this.commitDuration = new Histogram({
      name: 'arbiter_commit_duration_seconds',
      help: 'Begin to the Commit answer, of transactions that committed',
      buckets: LATENCY_BUCKETS,
      registers,
    })
    this.phase1Duration = new Histogram({ name: 'arbiter_phase1_duration_seconds', help: 'Phase 1 (prepare, read-only probe)', buckets: LATENCY_BUCKETS, registers })
    this.appendDuration = new Histogram({
      name: 'arbiter_decision_log_append_seconds',
      help: 'The forced DECISION write, fsync included',
      buckets: FSYNC_BUCKETS,
      registers,
    })
    this.phase2Duration = new Histogram({ name: 'arbiter_phase2_duration_seconds', help: 'Phase 2 (commit of every prepared branch)', buckets: LATENCY_BUCKETS, registers })
    this.batchSize = new Histogram({ name: 'arbiter_decision_log_batch_size', help: 'Records per decision-log write batch (group commit)', buckets: BATCH_BUCKETS, registers })
    this.heuristicTotal = new Counter({ name: 'arbiter_transactions_heuristic_total', help: 'Operator resolutions that contradicted a decision', registers })
    this.resourceErrors = new Counter({
      name: 'arbiter_resource_errors_total',
      help: 'Errors from resources, by class (retryable, vote-no, not-found, fatal)',
      labelNames: ['resource', 'class'],
      registers,
    })
    this.recoveryRuns = new Counter({ name: 'arbiter_recovery_runs_total', help: 'Recovery passes', registers })
    this.recoveryActions = new Counter({ name: 'arbiter_recovery_actions_total', help: 'Prepared branches seen by recovery, by action', labelNames: ['action'], registers })
    this.recoveryFailures = new Counter({
      name: 'arbiter_recovery_failures_total',
      help: 'Commits and rollbacks recovery tried and could not carry out (tried again next pass), by resource',
      labelNames: ['resource', 'action'],
      registers,
    })
    // Every outcome and path from the first scrape on, at 0: increase() then sees the first one (a series
    // that appears with its first event has no earlier sample to rise from).
    for (const child of this.finishedChildren.values()) child.inc(0)
    const notReadyOf = (): string | undefined => this.notReady()
    new Gauge({
      name: 'arbiter_ready',
      help: '1 when /readyz answers 200: start-up recovery done, not draining, the decision log can write',
      registers,
      collect() {
        this.set(notReadyOf() === undefined ? 1 : 0)
      },
    })

    // Read at scrape time only (prom-client calls collect() with the metric as `this`).
    const sourcesOf = (): MetricSources | undefined => this.sources
    const snapshots = this.resourceSnapshots
    new Counter({
      name: 'arbiter_decision_log_fsyncs_total',
      help: 'fsync calls of the decision log since start',
      registers,
      collect() {
        this.reset()
        this.inc(sourcesOf()?.log.stats().fsyncs ?? 0)
      },
    })
    new Counter({
      name: 'arbiter_decision_log_records_total',
      help: 'Records appended to the decision log since start',
      registers,
      collect() {
        this.reset()
        this.inc(sourcesOf()?.log.stats().records ?? 0)
      },
    })
    const txGauge = (name: string, help: string, count: (tx: Transaction, now: number, sources: MetricSources) => boolean): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          const sources = sourcesOf()
          let n = 0
          if (sources) {
            const now = Date.now()
            for (const tx of sources.coordinator.list()) if (count(tx, now, sources)) n++
          }
          this.set(n)
        },
      })
    }
    txGauge('arbiter_transactions_active', 'Transactions the TM works on (ACTIVE, PREPARING, COMMITTING)', (tx) =>
      tx.state === 'ACTIVE' || tx.state === 'PREPARING' || tx.state === 'COMMITTING',
    )
    txGauge('arbiter_transactions_in_doubt', 'Transactions past the commit point whose phase 2 is not done (COMMITTING)', (tx) => tx.state === 'COMMITTING')
    txGauge(
      'arbiter_transactions_stuck',
      'Transactions in COMMITTING for longer than admin.stuckAfterMs',
      // In COMMITTING since the decision was logged (as Admin.ListTransactions counts it).
      (tx, now, sources) => tx.state === 'COMMITTING' && now - (sources.log.get(tx.gtrid)?.decision?.at ?? tx.updatedAt) > sources.stuckAfterMs,
    )
    const resourceGauge = (name: string, help: string, value: (s: ResourceSnapshot) => number | undefined): void => {
      new Gauge({
        name,
        help,
        labelNames: ['resource'],
        registers,
        collect() {
          for (const [resource, snapshot] of snapshots) {
            const v = value(snapshot)
            if (v === undefined) this.remove(resource)
            else this.labels(resource).set(v)
          }
        },
      })
    }
    resourceGauge('arbiter_resource_up', '1 when the resource answered its last health check', (s) => (s.up ? 1 : 0))
    resourceGauge('arbiter_resource_pool_in_use', 'Pooled sessions in use', (s) => s.poolInUse)
    resourceGauge('arbiter_resource_prepared_branches', "Arbiter's prepared branches on the resource", (s) => s.preparedBranches)
    resourceGauge('arbiter_resource_pool_size', 'Sessions the pool may open (where the resource has a pool)', (s) => s.poolSize)
    resourceGauge(
      'arbiter_resource_prepared_headroom',
      'Prepared transactions the server takes before it refuses PREPARE (PostgreSQL: max_prepared_transactions minus those prepared, every kind)',
      (s) => s.preparedHeadroom,
    )
  }

  /** Connects collect() to the running parts and starts the resource-health timer. */
  attach(sources: MetricSources, resourceRefreshMs: number): void {
    this.sources = sources
    void this.refreshResources()
    this.refreshTimer = setInterval(() => void this.refreshResources(), resourceRefreshMs).unref()
  }

  stop(): void {
    clearInterval(this.refreshTimer)
  }

  private async refreshResources(): Promise<void> {
    const sources = this.sources
    if (!sources) return
    await Promise.all(
      sources.resources.all().map(async (adapter) => {
        let snapshot: ResourceSnapshot
        try {
          if (!sources.resources.isReady(adapter.name)) throw new Error('not ready')
          const health = await withTimeout(adapter.health(), 3000)
          snapshot = {
            up: health.reachable,
            poolInUse: health.poolInUse ?? 0,
            preparedBranches: health.preparedBranches ?? 0,
            poolSize: health.poolSize,
            preparedHeadroom: health.preparedHeadroom,
          }
        } catch {
          const previous = this.resourceSnapshots.get(adapter.name)
          snapshot = {
            up: false,
            poolInUse: previous?.poolInUse ?? 0,
            preparedBranches: previous?.preparedBranches ?? 0,
            poolSize: previous?.poolSize,
            preparedHeadroom: previous?.preparedHeadroom,
          }
        }
        this.resourceSnapshots.set(adapter.name, snapshot)
      }),
    )
  }

  // ── CoordinatorObserver ────────────────────────────────────────────────
  begun(): void {
    this.begunTotal.inc()
  }

  finished(tx: Transaction, outcome: TxOutcome): void {
    if (this.finishedOnce.has(tx)) return
    this.finishedOnce.add(tx)
    this.finishedChildren.get(`${outcome}|${tx.commitPath ?? 'none'}`)?.inc()
  }

  commitAnswered(tx: Transaction): void {
    this.commitDuration.observe((Date.now() - tx.createdAt) / 1000)
  }

  heuristic(tx: Transaction): void {
    // Once per transaction: an operator's resolution and the end of its phase 2 may both report it.
    if (this.heuristicOnce.has(tx)) return
    this.heuristicOnce.add(tx)
    this.heuristicTotal.inc()
    this.finished(tx, 'heuristic')
  }

  phase1(seconds: number): void {
    this.phase1Duration.observe(seconds)
  }

  decisionAppended(seconds: number): void {
    this.appendDuration.observe(seconds)
  }

  phase2(seconds: number): void {
    this.phase2Duration.observe(seconds)
  }

  resourceError(resource: string, errorClass: string): void {
    this.resourceErrors.labels(resource, errorClass).inc()
  }

  // ── Other sources ──────────────────────────────────────────────────────
  /** The decision log wrote a batch of this many records. */
  logBatch(records: number): void {
    this.batchSize.observe(records)
  }

  recoveryPass(report: RecoveryReport): void {
    this.recoveryRuns.inc()
    for (const step of report.steps) {
      this.recoveryActions.labels(step.action).inc()
      if ((step.action === 'commit' || step.action === 'rollback') && step.result.startsWith('failed')) this.recoveryFailures.labels(step.resource, step.action).inc()
    }
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), ms)))
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer))
}
