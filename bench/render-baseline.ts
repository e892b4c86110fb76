// The baseline section of the report (--baseline-rev, issue #25): each TM
// variant on this checkout's TM against the same variant on a TM run from an
// earlier revision's worktree, both in the same shuffled rounds, with this
// checkout's client and load generator.
import { ms, num } from './render-format.js'
import { TM_VARIANTS, VARIANT_LABEL, cellOf, cellRatio, type BenchResult } from './result.js'
import { fmtSpread } from './spread.js'

/** One row per (concurrency, TM variant): this TM's figures, the baseline's, and this ÷ baseline with the spread over rounds. */
export function baselineTable(result: BenchResult): string {
  const at = `at \`${result.baseline?.rev ?? 'the baseline'}\``
  const lines = [
    `| conc. | variant | tx/s | tx/s ${at} | tx/s: this ÷ ${at} | p50 ms | p50 ms ${at} | p50: this ÷ ${at} | p99: this ÷ ${at} | TM CPU ms / tx | TM CPU ms / tx ${at} |`,
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ]
  const cpu = (v: number | null): string => (v === null ? 'n/a' : v.toFixed(2))
  for (const c of result.settings.concurrencies) {
    for (const v of TM_VARIANTS) {
      const cell = cellOf(result, v, c)
      const base = cellOf(result, v, c, true)
      if (!cell || !base) continue
      lines.push(
        `| ${c} | ${VARIANT_LABEL[v]} | ${num(cell.tps)} | ${num(base.tps)} | ${fmtSpread(cellRatio(cell, base, 'tps'))} | ${ms(cell.p50Ms)} | ${ms(base.p50Ms)} | ${fmtSpread(cellRatio(cell, base, 'p50Ms'))} | ${fmtSpread(cellRatio(cell, base, 'p99Ms'))} | ${cpu(cell.tmCpuMsPerTx)} | ${cpu(base.tmCpuMsPerTx)} |`,
      )
    }
  }
  return lines.join('\n')
}

/** The section, when the run had a baseline TM. */
export function baselineSection(result: BenchResult): string[] {
  const b = result.baseline
  if (!b || !result.cells.some((c) => c.tm === 'baseline')) return []
  return [
    `## This TM ÷ the TM at \`${b.rev}\` (issue #25)`,
    '',
    `Each Arbiter variant twice: on this checkout's TM (${b.current}) and on a second TM process run from a git worktree of ` +
      `\`${b.rev}\` (${b.commit.slice(0, 7)}: ${b.subject.length > 100 ? `${b.subject.slice(0, 100)}…` : b.subject}), with the same config, the same ` +
      'client library and load generator (this checkout\'s), in the same rounds: every variant on either TM once per round, in shuffled order. ' +
      'Tracing is off on both (no tracing config; the client sends no trace context). Ratios are this TM\'s ÷ the baseline\'s: of the totals, ' +
      'in brackets the lowest and highest of the rounds\' own ratios. A spread that straddles 1.00× is within noise.',
    '',
    baselineTable(result),
    '',
  ]
}
