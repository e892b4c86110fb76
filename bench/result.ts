// The shape of a benchmark run's result (bench/results/latest.json) and the
// derived numbers every renderer shares: ratios to raw 2PC with their spread
// over rounds (the targets: main-targets.ts; the cluster parts':
// cluster-result.ts). Pure: no I/O.
import type { BreakdownResult } from './breakdown-phases.js'
import type { ClusterResult, TakeoverResult } from './cluster-result.js'
import { ratioSpread, type Spread } from './spread.js'

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

/** One measured round's figures of a cell (a round runs every variant once, in shuffled order). */
export interface CellRound {
  readonly tps: number
  readonly p50Ms: number
  readonly p99Ms: number
  /** As the cell's, over this round's window alone. */
  readonly fsyncsPerCommit: number | null
  readonly tmCpuMsPerTx: number | null
  readonly benchCpuMsPerTx: number | null
}

export interface Cell {
  readonly variant: Variant
  readonly concurrency: number
  /** The TM that served it: absent for this checkout's, 'baseline' for the one run from --baseline-rev's worktree. */
  readonly tm?: 'baseline'
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
  /** Each measured round's figures, in round order (absent in results written before they were kept). */
  readonly rounds?: readonly CellRound[]
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
  /** Seconds of load every lane ran once before the first warm-up (options.ts); absent in results written before it existed. */
  readonly jitWarmupSeconds?: number
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
  /** The TM the baseline cells ran on (--baseline-rev, issue #25); absent when not asked for. */
  readonly baseline?: BaselineInfo
}

export interface BaselineInfo {
  /** The revision as given, e.g. "e2b9fca^". */
  readonly rev: string
  readonly commit: string
  readonly subject: string
  /** This checkout's TM, e.g. "735578a" or "735578a with uncommitted changes in 3 files of server/". */
  readonly current: string
}

/** The cell of a variant at a concurrency, on this checkout's TM (or, with `baseline`, on --baseline-rev's). */
export function cellOf(result: Pick<BenchResult, 'cells'>, variant: Variant, concurrency: number, baseline = false): Cell | undefined {
  return result.cells.find((c) => c.variant === variant && c.concurrency === concurrency && (c.tm === 'baseline') === baseline)
}

/** The figures a ratio can be taken of, the same for the totals and each round. */
export type RatioKey = 'tps' | 'p50Ms' | 'p99Ms'

/** a's figure ÷ b's: of the totals, spread over the rounds' own ratios; undefined when b's is 0. */
export function cellRatio(a: Cell, b: Cell, key: RatioKey): Spread | undefined {
  const rounds = (c: Cell): number[] => (c.rounds ?? []).map((r) => r[key])
  return ratioSpread(a[key], rounds(a), b[key], rounds(b))
}

/** The cell's figure ÷ raw 2PC's at the same concurrency (same TM side: raw 2PC has none); undefined when raw is missing or 0. */
export function ratioToRaw(result: Pick<BenchResult, 'cells'>, cell: Cell, key: RatioKey): Spread | undefined {
  const raw = cellOf(result, 'raw-2pc', cell.concurrency)
  return raw ? cellRatio(cell, raw, key) : undefined
}

export interface TargetCheck {
  readonly what: string
  readonly goal: string
  /** The measured value, e.g. "0.84× (0.80–0.88)"; "n/a" when not measured. */
  readonly measured: string
  /** True only when every round (and the total) meets the goal. */
  readonly met: boolean | undefined
  /** Not met, but some rounds (or the total) meet the goal: the run cannot tell. */
  readonly withinNoise?: boolean
}
