// Figures measured over rounds, and what they can tell. A round runs every
// variant once, in shuffled order, so round i of one variant and round i of
// another ran minutes apart at most: their ratio is that round's. A ratio is
// reported as the ratio of the totals with the lowest and highest of the
// rounds' own ratios, and a target counts as met only when all of them meet
// it. Shared by the main part (result.ts, main-targets.ts) and the cluster
// parts (cluster-result.ts). Pure: no I/O.

/** A figure of the totals, with the lowest and highest of the rounds' own figures. */
export interface Spread {
  readonly value: number
  readonly min: number
  readonly max: number
}

/** `value` with the min and max of `values`; min = max = value when there are none. */
export function spreadOf(value: number, values: readonly number[]): Spread {
  return values.length === 0 ? { value, min: value, max: value } : { value, min: Math.min(...values), max: Math.max(...values) }
}

/** Round i of a ÷ round i of b, for the rounds both have; rounds where b is 0 are left out. */
export function roundRatios(a: readonly number[], b: readonly number[]): number[] {
  const ratios: number[] = []
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i]! > 0) ratios.push(a[i]! / b[i]!)
  return ratios
}

/** a ÷ b of the totals, spread over the rounds' own ratios; undefined when b is not above 0. */
export function ratioSpread(a: number, aRounds: readonly number[], b: number, bRounds: readonly number[]): Spread | undefined {
  return b > 0 ? spreadOf(a / b, roundRatios(aRounds, bRounds)) : undefined
}

/** "0.90× (0.81–0.99)"; the brackets only when the rounds differ at the digits shown. */
export function fmtSpread(s: Spread | undefined, digits = 2, unit = '×'): string {
  if (s === undefined) return 'n/a'
  const [min, max] = [s.min.toFixed(digits), s.max.toFixed(digits)]
  return `${s.value.toFixed(digits)}${unit}${min !== max ? ` (${min}–${max})` : ''}`
}

/** A target on a figure: at most, at least, or below a limit. */
export interface Goal {
  readonly op: '≤' | '≥' | '<'
  readonly limit: number
}

export type Verdict = 'met' | 'within noise' | 'no'

/**
 * 'met' when the total and every round meet the goal, 'no' when none of
 * them does, 'within noise' when some do: the run cannot tell.
 */
export function judge(s: Spread, goal: Goal): Verdict {
  const lo = Math.min(s.value, s.min)
  const hi = Math.max(s.value, s.max)
  const meets = (v: number): boolean => (goal.op === '≤' ? v <= goal.limit : goal.op === '≥' ? v >= goal.limit : v < goal.limit)
  // The worst end decides "met", the best end decides "no".
  const [worst, best] = goal.op === '≥' ? [lo, hi] : [hi, lo]
  if (meets(worst)) return 'met'
  return meets(best) ? 'within noise' : 'no'
}

/** The goal as a target table shows it, e.g. "≤ 1.40×". */
export function fmtGoal(goal: Goal, digits = 2, unit = '×'): string {
  return `${goal.op} ${goal.limit.toFixed(digits)}${unit}`
}
