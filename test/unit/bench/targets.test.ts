// The main part's spread over rounds (issue #24 item 3) and its baseline TM
// (issue #25): ratios of totals with the lowest and highest round, targets
// met only when every round meets them, the report's tables, --baseline-rev
// and its worktree, and the shell that runs another checkout's TM.
import { spawnSync } from 'node:child_process'
import { existsSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createBaselineWorktree } from '../../../bench/baseline-worktree.js'
import { lanesOf } from '../../../bench/main-phase.js'
import { combine, divide, spreadOfSeries, targetChecks } from '../../../bench/main-targets.js'
import { outName, parseOptions } from '../../../bench/options.js'
import { baselineSection } from '../../../bench/render-baseline.js'
import { renderMarkdown, resultsTable, targetsTable } from '../../../bench/render-markdown.js'
import { cellOf, ratioToRaw, type BenchResult, type Cell, type CellRound, type Variant } from '../../../bench/result.js'
import { fmtGoal, fmtSpread, judge, ratioSpread, roundRatios, spreadOf } from '../../../bench/spread.js'
import { tmWrapper } from '../../../bench/tm-process.js'
import { fixtureEnvironment } from './bench-fixture.js'

type Figures = Omit<CellRound, 'fsyncsPerCommit' | 'tmCpuMsPerTx'> & { fsyncsPerCommit?: number | null; tmCpuMsPerTx?: number | null }

/** A cell whose totals and rounds are given: p99 defaults to 10 × p50, the CPU figures to null. */
function cell(variant: Variant, concurrency: number, total: Partial<Figures>, rounds: Partial<Figures>[], tm?: 'baseline'): Cell {
  const full = (f: Partial<Figures>): CellRound => ({
    tps: f.tps ?? 100,
    p50Ms: f.p50Ms ?? 2,
    p99Ms: f.p99Ms ?? 10 * (f.p50Ms ?? 2),
    fsyncsPerCommit: f.fsyncsPerCommit ?? null,
    tmCpuMsPerTx: f.tmCpuMsPerTx ?? null,
    benchCpuMsPerTx: f.benchCpuMsPerTx ?? null,
  })
  const t = full(total)
  return {
    variant,
    concurrency,
    ...(tm && { tm }),
    committed: Math.round(t.tps * 12),
    aborted: {},
    seconds: 12,
    tps: t.tps,
    p50Ms: t.p50Ms,
    p95Ms: t.p50Ms * 2,
    p99Ms: t.p99Ms,
    p999Ms: t.p99Ms * 2,
    fsyncsPerCommit: t.fsyncsPerCommit,
    tmCpuMsPerTx: t.tmCpuMsPerTx,
    ...(t.benchCpuMsPerTx !== null && { benchCpuMsPerTx: t.benchCpuMsPerTx }),
    machineBusy: 0.9,
    rounds: rounds.map(full),
  }
}

const byRound = <K extends keyof Figures>(key: K, values: Figures[K][]): Partial<Figures>[] => values.map((v) => ({ [key]: v }))
const zip = (...rounds: Partial<Figures>[][]): Partial<Figures>[] => rounds[0]!.map((_, i) => Object.assign({}, ...rounds.map((r) => r[i])))

// Three rounds; at c=1 latency, at c=32 throughput, p99, CPU and fsyncs, each chosen to land one target on each verdict.
const cells: Cell[] = [
  cell('raw-2pc', 1, { p50Ms: 2 }, byRound('p50Ms', [2, 2, 2])),
  cell('tm-enlist', 1, { p50Ms: 2.6 }, byRound('p50Ms', [2.6, 2.6, 2.6])), // 1.30× every round: met (≤ 1.40)
  cell('tm-run', 1, { p50Ms: 3 }, byRound('p50Ms', [2.8, 3.2, 2.9])), // 1.40–1.60: within noise (≤ 1.50)
  cell('tm-execute', 1, { p50Ms: 4.4 }, byRound('p50Ms', [4.2, 4.4, 4.6])), // 2.10–2.30: no (≤ 2.00)
  cell(
    'raw-2pc',
    32,
    { tps: 1000, p99Ms: 50, benchCpuMsPerTx: 0.7 },
    zip(byRound('tps', [1000, 900, 1100]), byRound('p99Ms', [50, 50, 50]), byRound('benchCpuMsPerTx', [0.7, 0.72, 0.68])),
  ),
  cell(
    'tm-enlist',
    32,
    { tps: 960, p99Ms: 60, benchCpuMsPerTx: 0.72, tmCpuMsPerTx: 0.12, fsyncsPerCommit: 0.1 },
    zip(
      byRound('tps', [970, 850, 1040]), // 0.944–0.97: within noise (≥ 0.95)
      byRound('p99Ms', [60, 60, 60]),
      byRound('benchCpuMsPerTx', [0.72, 0.74, 0.7]),
      byRound('tmCpuMsPerTx', [0.12, 0.14, 0.1]), // above raw: 0.14, 0.16, 0.12: within noise (≤ 0.15 ms)
      byRound('fsyncsPerCommit', [0.1, 0.1, 0.1]), // worst: no (< 0.10)
    ),
  ),
  cell(
    'tm-run',
    32,
    { tps: 930, p99Ms: 72, fsyncsPerCommit: 0.05 },
    zip(byRound('tps', [950, 850, 1000]), byRound('p99Ms', [70, 72, 74]), byRound('fsyncsPerCommit', [0.05, 0.05, 0.05])), // 0.909–0.95: met (≥ 0.90)
  ),
  cell(
    'tm-execute',
    32,
    { tps: 820, p99Ms: 76, tmCpuMsPerTx: 0.75, fsyncsPerCommit: 0.08 },
    zip(
      byRound('tps', [800, 760, 900]), // 0.8–0.844: no (≥ 0.85)
      byRound('p99Ms', [74, 80, 70]), // the worst per round: 1.48, 1.60, 1.48; of the totals 1.52 (through the TM): within noise (≤ 1.50)
      byRound('tmCpuMsPerTx', [0.75, 0.76, 0.74]), // ÷ raw's load generator: 1.056–1.088: met (≤ 1.10)
      byRound('fsyncsPerCommit', [0.08, 0.08, 0.08]),
    ),
  ),
]

const result: BenchResult = {
  version: 1,
  startedAt: '2026-12-06T00:00:00.000Z',
  wallSeconds: 400,
  command: 'npm run bench -- --baseline-rev e2b9fca^',
  environment: fixtureEnvironment,
  settings: {
    quick: false,
    concurrencies: [1, 32],
    rounds: 3,
    roundSeconds: 4,
    warmupSeconds: 1.5,
    accountsPerBank: 10_000,
    pgPoolMax: 32,
    mysqlPoolMax: 32,
    grpcChannelsMax: 1,
    logWriters: [],
    logSeconds: 1,
  },
  cells: [
    ...cells,
    // The same variant on the baseline TM: slower in two rounds of three.
    cell('tm-enlist', 32, { tps: 1000, p50Ms: 30 }, zip(byRound('tps', [1000, 800, 1000]), byRound('p50Ms', [30, 31, 29])), 'baseline'),
  ],
  logBench: [],
  baseline: { rev: 'e2b9fca^', commit: '51a63e4aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa', subject: 'Bench: the transfers now answer their gtrid', current: 'bff9d79' },
}

describe('spread over rounds', () => {
  it('takes round i of one variant against round i of the other', () => {
    expect(roundRatios([2, 3, 4], [1, 0, 2, 5])).toEqual([2, 2]) // a round where the divisor is 0 is left out, and so is a round only one has
    expect(ratioSpread(9, [8, 10], 10, [10, 10])).toEqual({ value: 0.9, min: 0.8, max: 1 })
    expect(ratioSpread(9, [8], 0, [0])).toBeUndefined()
    expect(spreadOf(1, [])).toEqual({ value: 1, min: 1, max: 1 })
    expect(fmtSpread({ value: 0.96, min: 0.91, max: 1.01 })).toBe('0.96× (0.91–1.01)')
    expect(fmtSpread(spreadOf(0.12, [0.08, 0.17]), 2, ' ms')).toBe('0.12 ms (0.08–0.17)')
  })

  it('is met only when the whole spread meets the goal', () => {
    expect(judge({ value: 1.3, min: 1.2, max: 1.4 }, { op: '≤', limit: 1.4 })).toBe('met')
    expect(judge({ value: 1.3, min: 1.2, max: 1.41 }, { op: '≤', limit: 1.4 })).toBe('within noise')
    expect(judge({ value: 1.5, min: 1.41, max: 1.6 }, { op: '≤', limit: 1.4 })).toBe('no')
    expect(judge({ value: 0.96, min: 0.95, max: 0.99 }, { op: '≥', limit: 0.95 })).toBe('met')
    expect(judge({ value: 0.96, min: 0.94, max: 0.99 }, { op: '≥', limit: 0.95 })).toBe('within noise')
    expect(judge({ value: 0.1, min: 0.08, max: 0.09 }, { op: '<', limit: 0.1 })).toBe('within noise') // the total counts too
    expect(judge({ value: 0.1, min: 0.1, max: 0.12 }, { op: '<', limit: 0.1 })).toBe('no')
    expect(fmtGoal({ op: '≤', limit: 0.15 }, 2, ' ms')).toBe('≤ 0.15 ms')
  })

  it('combines figures round by round, leaving out a round where one is missing', () => {
    const s = combine(divide, { value: 6, rounds: [4, undefined, 8] }, { value: 3, rounds: [2, 2, 0] })
    expect(s).toEqual({ value: 2, rounds: [2, undefined, undefined] })
    expect(spreadOfSeries(s)).toEqual({ value: 2, min: 2, max: 2 })
    expect(combine(divide, { value: 1, rounds: [] }, undefined)).toBeUndefined()
    expect(combine(divide, { value: 1, rounds: [] }, { value: 0, rounds: [] })).toBeUndefined()
  })
})

describe("the main part's targets (issue #24)", () => {
  it('judges each over its rounds: yes, within noise or no', () => {
    const checks = targetChecks(result)
    const verdicts = checks.map((c) => (c.met ? 'yes' : c.withinNoise ? 'within noise' : 'no'))
    expect(checks.map((c) => c.what.replace(/ at c=.*/, ''))).toEqual([
      "local branches: p50 ÷ raw 2PC's",
      "one-shot: p50 ÷ raw 2PC's",
      "through the TM: p50 ÷ raw 2PC's",
      "local branches: throughput ÷ raw 2PC's",
      "one-shot: throughput ÷ raw 2PC's",
      "through the TM: throughput ÷ raw 2PC's",
      "p99 ÷ raw 2PC's",
      "local branches: CPU per transfer (load generator + TM) above raw 2PC's load generator's",
      "through the TM: the TM's CPU per transfer ÷ raw 2PC's load generator's",
      'group commit: decision-log fsyncs per committed transaction',
    ])
    expect(verdicts).toEqual(['yes', 'within noise', 'no', 'within noise', 'yes', 'no', 'within noise', 'within noise', 'yes', 'no'])
    expect(checks[0]!.measured).toBe('1.30×') // every round alike: no brackets
    expect(checks[1]!.measured).toBe('1.50× (1.40–1.60)')
    expect(checks[3]!.measured).toBe('0.96× (0.94–0.97)')
    expect(checks[6]!.what).toBe("p99 ÷ raw 2PC's at c=32, the worst Arbiter variant (through the TM)") // no 128 measured: the highest
    expect(checks[6]!.measured).toBe('1.52× (1.48–1.60)')
    expect(checks[7]!.measured).toBe('0.14 ms (0.12–0.16)')
    expect(checks[7]!.goal).toBe('≤ 0.15 ms')
    expect(checks[8]!.measured).toBe('1.07× (1.06–1.09)')
    expect(checks[9]!.measured).toBe('0.100')
    expect(checks[9]!.goal).toBe('< 0.10')
    const table = targetsTable(result, checks)
    expect(table).toContain("| one-shot: p50 ÷ raw 2PC's at c=1 | ≤ 1.50× | 1.50× (1.40–1.60) | within noise |")
    expect(table).toContain("| through the TM: throughput ÷ raw 2PC's at c=32 | ≥ 0.85× | 0.82× (0.80–0.84) | **no** |")
  })

  it('judges a run without rounds (an older result) on its totals, and says n/a for what it did not measure', () => {
    const old: BenchResult = { ...result, cells: result.cells.map(({ rounds: _, ...c }) => c) }
    expect(targetChecks(old)[1]!.measured).toBe('1.50×')
    expect(targetChecks(old)[1]!.met).toBe(true)
    const noCpu = targetChecks({ ...result, cells: result.cells.filter((c) => c.variant !== 'tm-enlist') })
    expect(noCpu[7]).toEqual(expect.objectContaining({ measured: 'n/a', met: undefined }))
  })
})

describe('the report', () => {
  it('shows each ratio to raw 2PC with its spread over rounds, and leaves the baseline TM out of the main table', () => {
    const rows = resultsTable(result).split('\n')
    expect(rows).toHaveLength(2 + 8)
    expect(rows.find((r) => r.startsWith('| 32 | Arbiter: local branches |'))).toContain('| 960 | 0.96× (0.94–0.97) |')
    expect(rows.find((r) => r.startsWith('| 1 | Arbiter: one-shot |'))).toContain('| 3.00 | 1.50× (1.40–1.60) |')
    expect(rows.find((r) => r.startsWith('| 32 | **raw 2PC (no TM)** |'))).toContain('| 1,000 | 1.00× |')
    expect(ratioToRaw(result, cellOf(result, 'tm-execute', 32)!, 'p99Ms')).toEqual({ value: 1.52, min: 1.4, max: 1.6 })
    expect(cellOf(result, 'tm-enlist', 32, true)?.tps).toBe(1000)
  })

  it('compares this TM with the baseline TM per variant and concurrency', () => {
    const section = baselineSection(result).join('\n')
    expect(section).toContain('## This TM ÷ the TM at `e2b9fca^` (issue #25)')
    expect(section).toContain("this checkout's TM (bff9d79)")
    expect(section).toContain('51a63e4: Bench: the transfers now answer their gtrid')
    // tx/s 960 ÷ 1000 (rounds 0.97, 1.06, 1.04); p50 2 ÷ 30 (rounds 2/30, 2/31, 2/29)
    expect(section).toContain('| 32 | Arbiter: local branches | 960 | 1,000 | 0.96× (0.97–1.06) | 2.00 | 30.0 | 0.07× (0.06–0.07) |')
    expect(section.match(/^\| \d+ \| /gm)).toHaveLength(1) // only where both TMs ran
    const md = renderMarkdown(result)
    expect(md.indexOf('## Targets (issue #24)')).toBeLessThan(md.indexOf('## This TM ÷ the TM at'))
    expect(baselineSection({ ...result, baseline: undefined })).toEqual([])
  })
})

describe('--baseline-rev', () => {
  it('runs the main part alone unless --only says otherwise, and names the results after the baseline', () => {
    const o = parseOptions(['--baseline-rev', 'e2b9fca^', '--concurrency', '1,32', '--rounds', '5'], {})
    expect(o.baselineRev).toBe('e2b9fca^')
    expect([...o.parts]).toEqual(['main'])
    expect(o.out).toBe('latest-baseline')
    expect(parseOptions(['--baseline-rev', 'HEAD', '--quick'], {}).out).toBe('quick-baseline')
    expect(parseOptions(['--baseline-rev', 'HEAD', '--only', 'log,main'], {}).out).toBe('latest-log-main-baseline')
    expect(parseOptions([], { BENCH_BASELINE_REV: 'HEAD~2' }).baselineRev).toBe('HEAD~2')
    expect(outName(false, ['log', 'main', 'cluster', 'takeover'], true)).toBe('latest-baseline')
    expect(() => parseOptions(['--baseline-rev', 'HEAD', '--only', 'cluster'], {})).toThrow(/main part/)
    expect(() => parseOptions(['--baseline-rev', 'HEAD', '--variants', 'raw-2pc,local'], {})).toThrow(/TM variants/)
    // Absent, nothing changes.
    const plain = parseOptions([], {})
    expect(plain.baselineRev).toBeUndefined()
    expect(plain.out).toBe('latest')
    expect([...plain.parts]).toEqual(['log', 'main', 'cluster', 'takeover'])
  })

  it('runs every variant on this TM, and each TM variant on the baseline too', () => {
    expect(lanesOf(['raw-2pc', 'tm-enlist', 'tm-run'], true)).toEqual([
      { variant: 'raw-2pc', baseline: false },
      { variant: 'tm-enlist', baseline: false },
      { variant: 'tm-run', baseline: false },
      { variant: 'tm-enlist', baseline: true },
      { variant: 'tm-run', baseline: true },
    ])
    expect(lanesOf(['raw-2pc', 'tm-enlist'], false)).toHaveLength(2)
  })

  it("runs the other checkout's server/main.ts from there, the way ArbiterProcess runs this one's", () => {
    expect(tmWrapper({})).toEqual([])
    expect(tmWrapper({ cpuProf: '/tmp/p' })).toEqual(['/bin/sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir='/tmp/p' "$@"`])
    const root = mkdtempSync(join(tmpdir(), "arbiter-wrapper-it's-"))
    try {
      const [sh, ...args] = tmWrapper({ root, cpuProf: '/tmp/p' })
      // A script stands in for node: it prints the command line the TM would get, from the worktree (pwd).
      const fakeNode = join(root, 'fake-node')
      writeFileSync(fakeNode, '#!/bin/sh\necho "$(pwd)|$*"\n', { mode: 0o755 })
      const command = [fakeNode, '--import', 'tsx', '/repo/server/main.ts', 'serve', '--config', '/tmp/c.yaml']
      const out = spawnSync(sh!, [...args, ...command], { encoding: 'utf8' })
      expect(out.status).toBe(0)
      expect(out.stdout.trim()).toBe(`${root}|--cpu-prof --cpu-prof-dir=/tmp/p --import tsx ${root}/server/main.ts serve --config /tmp/c.yaml`)
    } finally {
      rmSync(root, { recursive: true, force: true })
    }
  })

  it('checks the revision out into a temp worktree with our node_modules, and removes it', () => {
    expect(() => createBaselineWorktree('no-such-revision-here')).toThrow(/not a commit of this repository/)
    const listeners = process.listenerCount('SIGINT')
    const tree = createBaselineWorktree('HEAD')
    try {
      expect(existsSync(join(tree.dir, 'server', 'main.ts'))).toBe(true)
      expect(lstatSync(join(tree.dir, 'node_modules')).isSymbolicLink()).toBe(true)
      expect(tree.commit).toMatch(/^[0-9a-f]{40}$/)
      expect(process.listenerCount('SIGINT')).toBe(listeners + 1)
    } finally {
      tree.remove()
    }
    expect(existsSync(tree.dir)).toBe(false)
    expect(process.listenerCount('SIGINT')).toBe(listeners)
    const list = spawnSync('git', ['worktree', 'list', '--porcelain'], { encoding: 'utf8' }).stdout
    expect(list).not.toContain(tree.dir)
    tree.remove() // idempotent
  })
})
