// The cluster parts' pure pieces (issue #23): part selection and options,
// ratios with their spread over rounds, store commits per transaction
// (including the in-window span between two steps of a counter that
// reports late), the targets, the pool budget, the lease's rationale, and
// the Markdown section.
import { describe, expect, it } from 'vitest'
import { clusterPoolSizes } from '../../../bench/cluster-bench.js'
import {
  CLUSTER_VARIANTS,
  CLUSTER_VARIANT_INFO,
  clusterTargets,
  median,
  perTransaction,
  tpsRatio,
  type ClusterCell,
  type ClusterResult,
  type ClusterVariant,
  type TakeoverResult,
} from '../../../bench/cluster-result.js'
import { outName, parseOptions, selectParts } from '../../../bench/options.js'
import { fmtSpread } from '../../../bench/spread.js'
import { renderMarkdown } from '../../../bench/render-markdown.js'
import type { BenchResult } from '../../../bench/result.js'
import { spanInWindow } from '../../../bench/store-commits.js'
import { leaseWhy } from '../../../bench/takeover-time.js'

const TPS: Record<ClusterVariant, number> = {
  'raw-2pc': 1000,
  'file-enlist': 950,
  'pg-enlist': 900,
  'pg2-enlist': 860,
  'file-execute': 700,
  'pg-execute': 650,
  'pg2-execute': 600,
}

function cell(variant: ClusterVariant, concurrency: number, rounds: number[] = variant === 'raw-2pc' ? [1, 1, 1] : [0.9, 1, 1.1]): ClusterCell {
  const tps = TPS[variant]
  const pg = CLUSTER_VARIANT_INFO[variant].store === 'postgres'
  return {
    variant,
    concurrency,
    committed: tps * 12,
    seconds: 12,
    tps,
    roundTps: rounds.map((f) => tps * f),
    p50Ms: 30,
    p99Ms: 60,
    failed: variant === 'pg2-execute' ? { 'UnavailableError: a | b': 2 } : {},
    tmCpuMsPerTx: variant === 'raw-2pc' ? null : 0.3,
    storeCommitsPerTx: pg ? (concurrency === 128 ? 0.08 : 0.2) : null,
    storeCommitsPerTxRounds: pg ? (concurrency === 128 ? [0.07, 0.09] : [0.18, 0.22]) : [],
    logWritesPerTx: variant === 'raw-2pc' ? null : 0.07,
    storeCpuMsPerTx: pg ? 0.1 : null,
    eventLoopLagMaxMs: variant === 'raw-2pc' ? null : 40,
    machineBusy: 0.9,
  }
}

const cluster: ClusterResult = {
  store: 'a throwaway PostgreSQL server of its own',
  separateStore: true,
  leaseMs: 5000,
  takeoverIntervalMs: 500,
  concurrencies: [32, 128],
  twoNodeConcurrencies: [32],
  rounds: 3,
  roundSeconds: 4,
  warmupSeconds: 1.5,
  pgPool: 47,
  mysqlPool: 122,
  cells: [32, 128].flatMap((c) => CLUSTER_VARIANTS.filter((v) => c === 32 || CLUSTER_VARIANT_INFO[v].nodes < 2).map((v) => cell(v, c))),
  balancesConserved: true,
  preparedLeft: 0,
}

const takeover: TakeoverResult = {
  store: 'a throwaway PostgreSQL server of its own',
  leaseMs: 5000,
  takeoverIntervalMs: 500,
  leaseWhy: 'Lease 5000 ms because.',
  rounds: [
    { node: 'bench-v1', decided: 4, undecided: 4, preparedBranches: 16, leaseLeftMs: 4600, takenOverMs: 4950, finishedMs: 5100, outcomesRight: true },
    { node: 'bench-v2', decided: 5, undecided: 3, preparedBranches: 16, leaseLeftMs: 3900, takenOverMs: 4300, finishedMs: 4400, outcomesRight: true },
  ],
}

describe('bench parts and options', () => {
  it('selects parts with --only and --skip, in the run order, and refuses unknown or empty selections', () => {
    expect(selectParts(undefined, undefined)).toEqual(['log', 'main', 'cluster', 'takeover'])
    expect(selectParts('takeover,cluster', undefined)).toEqual(['cluster', 'takeover'])
    expect(selectParts(undefined, 'log,main')).toEqual(['cluster', 'takeover'])
    expect(() => selectParts('clusters', undefined)).toThrow(/unknown part clusters \(known: log, main, cluster, takeover, breakdown\)/)
    expect(() => selectParts('log', 'log')).toThrow(/no part/)
  })

  it('names the results after the parts when not all of them ran', () => {
    expect(outName(false, ['log', 'main', 'cluster', 'takeover'])).toBe('latest')
    expect(outName(true, ['log', 'main', 'cluster', 'takeover'])).toBe('quick')
    expect(outName(false, ['cluster', 'takeover'])).toBe('latest-cluster-takeover')
  })

  it('parses the cluster flags and their environment twins', () => {
    const o = parseOptions(['--only', 'cluster', '--cluster-concurrency', '32', '--lease-ms', '3000', '--store-server', 'own'], { BENCH_TAKEOVER_INTERVAL_MS: '250' })
    expect([...o.parts]).toEqual(['cluster'])
    expect(o.clusterConcurrencies).toEqual([32])
    expect(o.twoNodeConcurrencies).toEqual([32])
    expect(o.leaseMs).toBe(3000)
    expect(o.takeoverIntervalMs).toBe(250)
    expect(o.storeServer).toBeUndefined()
    expect(o.out).toBe('latest-cluster')
    expect(parseOptions(['--quick', '--store-server', 'bench'], {})).toMatchObject({ storeServer: 'bench', takeoverRounds: 1, out: 'quick', clusterConcurrencies: [32, 128] })
  })

  it('runs every process warm by default (--jit-warmup-seconds), 0 turns that off, a negative is refused', () => {
    expect(parseOptions([], {}).jitWarmupSeconds).toBe(12)
    expect(parseOptions(['--quick'], {}).jitWarmupSeconds).toBe(2)
    expect(parseOptions(['--jit-warmup-seconds', '0'], {}).jitWarmupSeconds).toBe(0)
    expect(parseOptions([], { BENCH_JIT_WARMUP_SECONDS: '5' }).jitWarmupSeconds).toBe(5)
    expect(() => parseOptions(['--jit-warmup-seconds=-1'], {})).toThrow(/0 or more/)
  })
})

describe('cluster results', () => {
  it('a throughput ratio is of the totals, its spread of the rounds run side by side', () => {
    const a = cell('pg-enlist', 32, [0.9, 1, 1.1])
    const b = cell('raw-2pc', 32, [1, 1, 1])
    const r = tpsRatio(a, b)!
    expect(r.value).toBeCloseTo(0.9)
    expect(r.min).toBeCloseTo(0.81)
    expect(r.max).toBeCloseTo(0.99)
    expect(tpsRatio(a, undefined)).toBeUndefined()
    expect(tpsRatio(a, { ...b, tps: 0 })).toBeUndefined()
    expect(fmtSpread(r)).toBe('0.90× (0.81–0.99)')
    expect(fmtSpread({ value: 0.123, min: 0.123, max: 0.123 }, 3, '')).toBe('0.123')
  })

  it('store commits per transaction: the sum over spans, and each span', () => {
    expect(perTransaction([])).toBeUndefined()
    const s = perTransaction([
      { commits: 10, transfers: 100 },
      { commits: 30, transfers: 100 },
      { commits: 5, transfers: 0 },
    ])!
    expect(s.value).toBeCloseTo(0.225)
    expect([s.min, s.max]).toEqual([0.1, 0.3])
    expect(median([3, 1, 2])).toBe(2)
    expect(median([4, 1, 2, 3])).toBe(2.5)
  })

  it('measures a span between two steps of a counter that reports late, paired with the transfers at each step', async () => {
    // Transfers at 1 per ms; the store commits 1 per 10 transfers but reports only every 100 ms (a backend's flush).
    const t0 = performance.now()
    const transfers = (): number => Math.floor(performance.now() - t0)
    const counter = { read: async () => Math.floor(Math.floor((performance.now() - t0) / 100) * 100 / 10) }
    const span = await spanInWindow(counter, 1, transfers, 0.1, 0.9)
    expect(span).toBeDefined()
    expect(span!.transfers).toBeGreaterThan(400)
    // A read 20 ms late at each end: both ends late alike, so the ratio stays near 0.1.
    expect(span!.commits / span!.transfers).toBeGreaterThan(0.08)
    expect(span!.commits / span!.transfers).toBeLessThan(0.12)
    expect(await spanInWindow({ read: async () => 7 }, 0.2, transfers)).toBeUndefined()
  })

  it("checks issue #23's targets", () => {
    const checks = clusterTargets(cluster, takeover)
    // Judged round by round: a total that meets the goal with a round that does not is within noise.
    expect(checks.map((c) => [c.measured, c.met, c.withinNoise ?? false])).toEqual([
      ['0.90× (0.81–0.99)', false, true],
      ['0.080 (0.070–0.090)', true, false],
      ['0.96×', true, false],
      ['0.92×', true, false],
      ['5.10 s', true, false],
    ])
    expect(checks.map((c) => c.goal)).toEqual(['≥ 0.85×', '≤ 0.10', '≥ 0.90×', '≥ 0.90×', '≤ 7.0 s'])
    expect(checks[1]!.what).toMatch(/c=128 .*local branches, postgres store/)
    expect(checks[4]!.goal).toBe('≤ 7.0 s')
    const slow = clusterTargets(undefined, { ...takeover, rounds: [{ ...takeover.rounds[0]!, finishedMs: null }] })
    expect(slow).toEqual([expect.objectContaining({ measured: 'not finished', met: false })])
    const wrong = clusterTargets(undefined, { ...takeover, rounds: [{ ...takeover.rounds[0]!, outcomesRight: false }] })
    expect(wrong[0]!.met).toBe(false)
    expect(clusterTargets(undefined, undefined)).toEqual([])
  })

  it('sizes four pools within the servers, less the store when it shares the bench server', () => {
    const facts = { pgMaxConnections: 200, pgMaxPrepared: 100, mysqlMaxConnections: 500 }
    expect(clusterPoolSizes(facts, 128, false)).toEqual({ pg: 47, mysql: 122 })
    expect(clusterPoolSizes(facts, 128, true)).toEqual({ pg: 44, mysql: 122 })
    expect(clusterPoolSizes(facts, 32, false)).toEqual({ pg: 32, mysql: 32 })
    expect(clusterPoolSizes({ ...facts, pgMaxPrepared: 20 }, 128, false).pg).toBe(16)
  })

  it("explains the lease with what it tolerates and this run's stall", () => {
    const text = leaseWhy(5000, 500, 68)
    expect(text).toMatch(/Lease 5000 ms, renewed every 1666 ms, takeover scans every 500 ms/)
    expect(text).toMatch(/stalls for more than 3334 ms/)
    expect(text).toMatch(/was 68 ms, 49× below that/)
    expect(leaseWhy(5000, 500, undefined)).not.toMatch(/this run/)
  })

  it('renders the cluster section, and no main tables when the main part did not run', () => {
    const result: BenchResult = {
      version: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      wallSeconds: 60,
      command: 'npm run bench -- --only cluster,takeover',
      environment: { cpuModel: 'cpu', cores: 2, memoryGiB: 8, os: 'Linux', node: 'v20', postgres: 'PostgreSQL 15', mariadb: 'MariaDB 10.11', durability: 'on', tmStatsSource: 'metrics' },
      settings: { quick: false, concurrencies: [], rounds: 3, roundSeconds: 4, warmupSeconds: 1.5, accountsPerBank: 10_000, pgPoolMax: 95, mysqlPoolMax: 128, grpcChannelsMax: 1, logWriters: [], logSeconds: 1 },
      cells: [],
      logBench: [],
      cluster,
      takeover,
    }
    const md = renderMarkdown(result)
    expect(md).not.toMatch(/Targets \(issue #9\)/)
    expect(md).not.toMatch(/Decision log: group commit/)
    expect(md).not.toMatch(/- pools:/)
    expect(md).toMatch(/## Cluster: the postgres store, two nodes, takeover \(issue #23\)/)
    const row = md.split('\n').find((l) => l.startsWith('| 32 | local branches, postgres store, 2 nodes |'))!
    expect(row).toContain('| 860 | 0.86× (0.77–0.95) | 0.91× | 0.96× |') // ÷ raw 2PC (its rounds varied apart), ÷ file store, ÷ one node
    expect(row).toContain('| 0.200 (0.180–0.220) |')
    expect(md).toContain('UnavailableError: a \\| b')
    expect(md).toMatch(/\| 1 \| bench-v1 \| 16 \| 4 \| 4 \| 4\.60 s \| 4\.95 s \| 5\.10 s \| right \|/)
    expect(md).toMatch(/\| takeover: SIGKILL .* \| ≤ 7\.0 s \| 5\.10 s \| yes \|/)
  })
})
