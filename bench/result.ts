// The shape of a benchmark run's result (bench/results/latest.json) and the
// derived numbers every renderer shares: ratios to raw 2PC and the targets
// of issue #9 (the cluster parts': cluster-result.ts). Pure: no I/O.
import type { BreakdownResult } from './breakdown-phases.js'
import type { ClusterResult, TakeoverResult } from './cluster-result.js'

export const VARIANTS = ['local', 'raw-2pc', 'tm-execute', 'tm-enlist', 'tm-run'] as const
export type Variant = (typeof VARIANTS)[number]

export const VARIANT_LABEL: Record<Variant, string> = {
  local: 'local (no atomicity)',
  'raw-2pc': 'raw 2PC (no TM)',
  'tm-execute': 'Arbiter: through the TM',
  'tm-enlist': 'Arbiter: local branches',
  'tm-run': 'Arbiter: one-shot',
}

/** Variants that go through the TM (TM CPU and fsyncs only mean something there). */
export const TM_VARIANTS: readonly Variant[] = ['tm-execute', 'tm-enlist', 'tm-run']

export interface Cell {
  readonly variant: Variant
  readonly concurrency: number
  /** Committed transfers in the measured windows (all rounds). */
  readonly committed: number
  /** Failed transfers by reason. */
  readonly aborted: Readonly<Record<string, number>>
  /** Sum of the measured windows, seconds. */
  readonly seconds: number
  readonly tps: number
  readonly p50Ms: number
  readonly p95Ms: number
  readonly p99Ms: number
  readonly p999Ms: number
  /** Decision-log fsyncs per committed transaction (TM metrics); null when not measured. */
  readonly fsyncsPerCommit: number | null
  /** TM process CPU time per committed transaction, milliseconds; null for variants without the TM. */
  readonly tmCpuMsPerTx: number | null
  /** The load generator's (this process: client library, drivers) CPU per committed transaction, milliseconds. */
  readonly benchCpuMsPerTx?: number
  /** Share of the machine's CPU time busy during the windows (every process on it: databases, TM, load, anything else), 0…1. */
  readonly machineBusy?: number
}

export interface LogBenchRow {
  readonly writers: number
  readonly groupCommit: { readonly decisionsPerS: number; readonly fsyncsPerDecision: number }
  readonly perDecision: { readonly decisionsPerS: number; readonly fsyncsPerDecision: number }
}

export interface Environment {
  readonly cpuModel: string
  readonly cores: number
  readonly memoryGiB: number
  readonly os: string
  readonly node: string
  readonly postgres: string
  readonly mariadb: string
  /** e.g. "PostgreSQL fsync=on, synchronous_commit=on; MariaDB innodb_flush_log_at_trx_commit=1; decision log fdatasync per batch". */
  readonly durability: string
  /** Where the TM's fsyncs and CPU came from. */
  readonly tmStatsSource: string
}

export interface Settings {
  readonly quick: boolean
  readonly concurrencies: readonly number[]
  readonly rounds: number
  readonly roundSeconds: number
  readonly warmupSeconds: number
  readonly accountsPerBank: number
  /** Connections each side (the bench's own pools, the TM's pools) may open to PostgreSQL / MariaDB. */
  readonly pgPoolMax: number
  readonly mysqlPoolMax: number
  readonly grpcChannelsMax: number
  readonly logWriters: readonly number[]
  readonly logSeconds: number
}

export interface BenchResult {
  readonly version: 1
  readonly startedAt: string
  readonly wallSeconds: number
  readonly command: string
  readonly environment: Environment
  readonly settings: Settings
  /** The main part's cells; empty when it did not run (--only/--skip). */
  readonly cells: readonly Cell[]
  readonly logBench: readonly LogBenchRow[]
  /** The postgres store against raw 2PC and the file store, two nodes against one (issue #23); absent when not run. */
  readonly cluster?: ClusterResult
  readonly takeover?: TakeoverResult
  /** The per-phase breakdown at concurrency 1 (issue #24); absent when not run. */
  readonly breakdown?: BreakdownResult
}

export function cellOf(result: Pick<BenchResult, 'cells'>, variant: Variant, concurrency: number): Cell | undefined {
  return result.cells.find((c) => c.variant === variant && c.concurrency === concurrency)
}

/** value / raw 2PC's value at the same concurrency; undefined when either is missing or raw is 0. */
export function ratioToRaw(result: Pick<BenchResult, 'cells'>, cell: Cell, key: 'tps' | 'p50Ms' | 'p99Ms'): number | undefined {
  const raw = cellOf(result, 'raw-2pc', cell.concurrency)
  if (!raw || raw[key] === 0) return undefined
  return cell[key] / raw[key]
}

export interface TargetCheck {
  readonly what: string
  readonly goal: string
  /** The measured value, e.g. "0.84×"; "n/a" when not measured. */
  readonly measured: string
  readonly met: boolean | undefined
}

const fmtRatio = (r: number | undefined): string => (r === undefined ? 'n/a' : `${r.toFixed(2)}×`)

/** Issue #9's targets at concurrency 32 (or the nearest one measured) and the group-commit target at 128 (or the highest). */
export function targetChecks(result: Pick<BenchResult, 'cells' | 'settings'>): TargetCheck[] {
  const cs = result.settings.concurrencies
  const nearest = (want: number): number | undefined =>
    cs.length === 0 ? undefined : cs.reduce((best, c) => (Math.abs(c - want) < Math.abs(best - want) ? c : best), cs[0]!)
  const c32 = nearest(32)
  const cHigh = cs.includes(128) ? 128 : cs.length ? Math.max(...cs) : undefined
  const checks: TargetCheck[] = []
  const at = (variant: Variant, c: number | undefined): Cell | undefined => (c === undefined ? undefined : cellOf(result, variant, c))
  const enlist = at('tm-enlist', c32)
  const execute = at('tm-execute', c32)
  const tpsEnlist = enlist && ratioToRaw(result, enlist, 'tps')
  const p50Enlist = enlist && ratioToRaw(result, enlist, 'p50Ms')
  const tpsExecute = execute && ratioToRaw(result, execute, 'tps')
  checks.push({ what: `local branches: throughput vs raw 2PC at c=${c32}`, goal: '≥ 0.90×', measured: fmtRatio(tpsEnlist), met: tpsEnlist === undefined ? undefined : tpsEnlist >= 0.9 })
  checks.push({ what: `local branches: p50 vs raw 2PC at c=${c32}`, goal: '≤ 1.20×', measured: fmtRatio(p50Enlist), met: p50Enlist === undefined ? undefined : p50Enlist <= 1.2 })
  checks.push({ what: `through the TM: throughput vs raw 2PC at c=${c32}`, goal: '≥ 0.70×', measured: fmtRatio(tpsExecute), met: tpsExecute === undefined ? undefined : tpsExecute >= 0.7 })
  const fsyncs = TM_VARIANTS.map((v) => at(v, cHigh)?.fsyncsPerCommit).filter((f): f is number => typeof f === 'number')
  const worst = fsyncs.length ? Math.max(...fsyncs) : undefined
  checks.push({
    what: `group commit: decision-log fsyncs per committed transaction at c=${cHigh} (worst TM variant)`,
    goal: '< 0.10',
    measured: worst === undefined ? 'n/a' : worst.toFixed(3),
    met: worst === undefined ? undefined : worst < 0.1,
  })
  return checks
}
