// The main part's targets (issue #24), each judged over the rounds: the
// figure of the totals with the lowest and highest round (each round's own
// figure, from the variants' windows of that round), met only when every
// round meets it. Pure: no I/O.
import { TM_VARIANTS, VARIANT_LABEL, cellOf, type BenchResult, type TargetCheck, type Variant } from './result.js'
import { fmtGoal, fmtSpread, judge, spreadOf, type Goal, type Spread } from './spread.js'

/** Issue #24: p50 ÷ raw 2PC's at concurrency 1, at most. */
export const P50_AT_1: readonly (readonly [Variant, number])[] = [
  ['tm-enlist', 1.4],
  ['tm-run', 1.5],
  ['tm-execute', 2.0],
]
/** Issue #24: throughput ÷ raw 2PC's at concurrency 32, at least. */
export const TPS_AT_32: readonly (readonly [Variant, number])[] = [
  ['tm-enlist', 0.95],
  ['tm-run', 0.9],
  ['tm-execute', 0.85],
]
/** Issue #24: p99 ÷ raw 2PC's at concurrency 128, the worst Arbiter variant, at most. */
export const P99_AT_128 = 1.5
/** Issue #24: CPU per local-branch transfer (load generator + TM) above raw 2PC's load generator's, ms, at most. */
export const CPU_ABOVE_RAW_MS = 0.15
/** Issue #24: the TM's CPU per through-the-TM transfer ÷ raw 2PC's load generator's, at most. */
export const TM_CPU_VS_RAW = 1.1
/** Issue #9: decision-log fsyncs per committed transaction at concurrency 128, the worst TM variant, below. */
export const FSYNCS_AT_128 = 0.1

/** The figures a cell and each of its rounds both carry. */
interface Figures {
  readonly tps: number
  readonly p50Ms: number
  readonly p99Ms: number
  readonly fsyncsPerCommit: number | null
  readonly tmCpuMsPerTx: number | null
  readonly benchCpuMsPerTx?: number | null
}

/** A figure of the totals and of each round (rounds by index: round i of every variant ran in the same round; undefined: not measured). */
export interface Series {
  readonly value: number
  readonly rounds: readonly (number | undefined)[]
}

/** `fn` of the totals and of each round where every input has a figure; undefined when an input or fn's total is missing. */
export function combine(fn: (...xs: number[]) => number | undefined, ...inputs: (Series | undefined)[]): Series | undefined {
  if (inputs.length === 0 || inputs.some((s) => s === undefined)) return undefined
  const all = inputs as Series[]
  const value = fn(...all.map((s) => s.value))
  if (value === undefined || !Number.isFinite(value)) return undefined
  const n = Math.min(...all.map((s) => s.rounds.length))
  const rounds: (number | undefined)[] = []
  for (let i = 0; i < n; i++) {
    const xs = all.map((s) => s.rounds[i])
    const r = xs.every((x): x is number => x !== undefined) ? fn(...xs) : undefined
    rounds.push(r !== undefined && Number.isFinite(r) ? r : undefined)
  }
  return { value, rounds }
}

export const divide = (a: number, b: number): number | undefined => (b > 0 ? a / b : undefined)

/** The series' spread: the total with the lowest and highest round. */
export function spreadOfSeries(s: Series | undefined): Spread | undefined {
  return s && spreadOf(s.value, s.rounds.filter((r): r is number => r !== undefined))
}

/** A target check from a measured spread: met only when all of it meets the goal (judge()). */
export function checkOf(what: string, goal: Goal, s: Spread | undefined, o: { digits?: number; goalDigits?: number; unit?: string } = {}): TargetCheck {
  const unit = o.unit ?? '×'
  const text = fmtGoal(goal, o.goalDigits ?? o.digits ?? 2, unit)
  if (s === undefined) return { what, goal: text, measured: 'n/a', met: undefined }
  const verdict = judge(s, goal)
  return { what, goal: text, measured: fmtSpread(s, o.digits ?? 2, unit), met: verdict === 'met', ...(verdict === 'within noise' && { withinNoise: true }) }
}

const short = (v: Variant): string => VARIANT_LABEL[v].replace(/^Arbiter: /, '')

/** The concurrency measured nearest to `want` (a run may skip it; the check then names the one it used). */
function nearest(cs: readonly number[], want: number): number | undefined {
  return cs.length === 0 ? undefined : cs.reduce((best, c) => (Math.abs(c - want) < Math.abs(best - want) ? c : best), cs[0]!)
}

/** Issue #24's targets (and the group-commit target), at the concurrencies they name or the nearest ones measured. */
export function targetChecks(result: Pick<BenchResult, 'cells' | 'settings'>): TargetCheck[] {
  const cs = result.settings.concurrencies
  const c1 = nearest(cs, 1)
  const c32 = nearest(cs, 32)
  const cHigh = cs.includes(128) ? 128 : cs.length ? Math.max(...cs) : undefined
  const fig = (v: Variant, c: number | undefined, f: (x: Figures) => number | null | undefined): Series | undefined => {
    const cell = c === undefined ? undefined : cellOf(result, v, c)
    const value = cell && f(cell)
    if (!cell || value === null || value === undefined) return undefined
    return { value, rounds: (cell.rounds ?? []).map((r) => f(r) ?? undefined) }
  }
  const toRaw = (v: Variant, c: number | undefined, key: 'tps' | 'p50Ms' | 'p99Ms'): Series | undefined =>
    combine(divide, fig(v, c, (x) => x[key]), fig('raw-2pc', c, (x) => x[key]))
  /** The worst (highest) of the variants' series, of the totals and round by round; and which variant's total it is. */
  const worst = (f: (v: Variant) => Series | undefined): { series: Series | undefined; variant: Variant | undefined } => {
    const measured = TM_VARIANTS.map((v) => [v, f(v)] as const).filter((e): e is readonly [Variant, Series] => e[1] !== undefined)
    const top = [...measured].sort((a, b) => b[1].value - a[1].value)[0]
    return { series: combine((...xs) => Math.max(...xs), ...measured.map((e) => e[1])), variant: top?.[0] }
  }

  const checks: TargetCheck[] = []
  for (const [v, limit] of P50_AT_1) {
    checks.push(checkOf(`${short(v)}: p50 ÷ raw 2PC's at c=${c1}`, { op: '≤', limit }, spreadOfSeries(toRaw(v, c1, 'p50Ms'))))
  }
  for (const [v, limit] of TPS_AT_32) {
    checks.push(checkOf(`${short(v)}: throughput ÷ raw 2PC's at c=${c32}`, { op: '≥', limit }, spreadOfSeries(toRaw(v, c32, 'tps'))))
  }
  const p99 = worst((v) => toRaw(v, cHigh, 'p99Ms'))
  checks.push(
    checkOf(
      `p99 ÷ raw 2PC's at c=${cHigh}, the worst Arbiter variant${p99.variant ? ` (${short(p99.variant)})` : ''}`,
      { op: '≤', limit: P99_AT_128 },
      spreadOfSeries(p99.series),
    ),
  )
  const above = combine(
    (lg, tm, raw) => lg + tm - raw,
    fig('tm-enlist', c32, (x) => x.benchCpuMsPerTx),
    fig('tm-enlist', c32, (x) => x.tmCpuMsPerTx),
    fig('raw-2pc', c32, (x) => x.benchCpuMsPerTx),
  )
  checks.push(
    checkOf(
      `local branches: CPU per transfer (load generator + TM) above raw 2PC's load generator's at c=${c32}`,
      { op: '≤', limit: CPU_ABOVE_RAW_MS },
      spreadOfSeries(above),
      { unit: ' ms' },
    ),
  )
  const tmCpu = combine(divide, fig('tm-execute', c32, (x) => x.tmCpuMsPerTx), fig('raw-2pc', c32, (x) => x.benchCpuMsPerTx))
  checks.push(
    checkOf(`through the TM: the TM's CPU per transfer ÷ raw 2PC's load generator's at c=${c32}`, { op: '≤', limit: TM_CPU_VS_RAW }, spreadOfSeries(tmCpu)),
  )
  const fsyncs = worst((v) => fig(v, cHigh, (x) => x.fsyncsPerCommit))
  checks.push(
    checkOf(
      `group commit: decision-log fsyncs per committed transaction at c=${cHigh}, the worst TM variant${fsyncs.variant ? ` (${short(fsyncs.variant)})` : ''}`,
      { op: '<', limit: FSYNCS_AT_128 },
      spreadOfSeries(fsyncs.series),
      { digits: 3, goalDigits: 2, unit: '' },
    ),
  )
  return checks
}
