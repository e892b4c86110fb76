// The per-phase breakdown's pure part (bench/breakdown-phases.ts): a
// transfer's spans (the bench's, the client's, the TM's) and the client's
// request timings → milliseconds per phase, which add up to the transfer.
import { describe, expect, it } from 'vitest'
import {
  PHASES,
  classifySql,
  floorOf,
  partition,
  phasesOfTransfer,
  roundTripPhases,
  spansOfOtlp,
  statOf,
  summarize,
  type RequestTiming,
  type SpanRecord,
} from '../../../bench/breakdown-phases.js'
import { outName, parseOptions, selectParts } from '../../../bench/options.js'
import { renderMarkdown } from '../../../bench/render-markdown.js'
import type { BenchResult } from '../../../bench/result.js'

const T = 'a'.repeat(32)
let nextId = 0
function span(name: string, start: number, end: number, parent?: SpanRecord, attributes: SpanRecord['attributes'] = {}): SpanRecord {
  return { traceId: T, spanId: (++nextId).toString(16).padStart(16, '0'), parentSpanId: parent?.spanId, name, start, end, attributes }
}
const sql = (phase: string, start: number, end: number, parent: SpanRecord): SpanRecord => span('bench.sql', start, end, parent, { 'bench.sql.phase': phase })
const request = (method: string, sentAt: number, receivedAt: number): RequestTiming => ({ traceId: T, method, sentAt, receivedAt })
const round = (phases: Record<string, number>): Record<string, number> => Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, Math.round(v * 1000) / 1000]))
const sum = (phases: Record<string, number>): number => Object.values(phases).reduce((a, b) => a + b, 0)

describe('classifySql: what a query on the application\'s connection is', () => {
  it.each([
    ['BEGIN', 'begin'],
    ["XA START 'g','b',1", 'begin'],
    ['  start transaction', 'begin'],
    ["PREPARE TRANSACTION 'gid'", 'prepare'],
    ["XA END 'g'", 'prepare'],
    ["xa prepare 'g'", 'prepare'],
    ["COMMIT PREPARED 'gid'", 'commit'],
    ["XA COMMIT 'g'", 'commit'],
    ["ROLLBACK PREPARED 'gid'", 'rollback'],
    ['UPDATE accounts SET balance = balance - $1 WHERE id = $2', 'statement'],
    ['INSERT INTO ledger VALUES (?, ?)', 'statement'],
    ['SELECT 1', 'statement'],
  ])('%s → %s', (text, phase) => expect(classifySql(text)).toBe(phase))
})

describe('partition: every instant in one phase, the most specific', () => {
  it('overlaps go to the higher phase; what nothing covers is client work', () => {
    const p = partition(0, 10, [
      { start: 1, end: 6, phase: 'tmOther' },
      { start: 2, end: 3, phase: 'prepare' },
      { start: 2.5, end: 4, phase: 'prepare' }, // parallel branches count once
      { start: 3.5, end: 5, phase: 'decision' },
      { start: 8, end: 12, phase: 'phase2' }, // clipped to the transfer
    ])
    expect(round(p)).toEqual({ client: 3, toTm: 0, statements: 0, prepare: 1.5, tmOther: 2, decision: 1.5, phase2: 2, answer: 0 })
    expect(sum(p)).toBeCloseTo(10, 9)
  })
})

describe('phasesOfTransfer', () => {
  it('raw 2PC: the bench\'s query spans only; parallel prepares and commits count once', () => {
    const root = span('bench.transfer', 0, 10)
    const spans = [
      root,
      sql('begin', 0.2, 0.6, root),
      sql('begin', 0.2, 0.5, root),
      sql('statement', 0.7, 1.2, root),
      sql('statement', 1.3, 1.8, root),
      sql('statement', 1.9, 2.5, root),
      sql('statement', 2.6, 3.0, root),
      sql('prepare', 3.2, 5.0, root), // PREPARE TRANSACTION
      sql('prepare', 3.2, 3.6, root), // XA END, then
      sql('prepare', 3.6, 4.6, root), // XA PREPARE, in parallel with it
      sql('commit', 5.2, 6.0, root),
      sql('commit', 5.2, 6.4, root),
    ]
    const t = phasesOfTransfer(spans, [])
    expect(t.total).toBe(10)
    expect(round(t.phases)).toEqual({ client: 4.6, toTm: 0, statements: 2.4, prepare: 1.8, tmOther: 0, decision: 0, phase2: 1.2, answer: 0 })
    expect(sum(t.phases)).toBeCloseTo(t.total, 9)
    expect(t.requests).toBe(0)
    expect(t.clientSpan).toBeUndefined()
  })

  it('through the TM: hops, the TM\'s own time, its steps; phase 2 after the answer is not on the path', () => {
    const root = span('bench.transfer', 0, 20)
    const tx = span('arbiter.transaction', 0.1, 19.9, root)
    const exec = span('arbiter.v1.TransactionManager/ExecuteBatch', 1, 4, tx)
    const commit = span('arbiter.v1.TransactionManager/Commit', 6, 15, tx)
    const spans = [
      root,
      tx,
      exec,
      span('arbiter.begin_branch', 1.2, 2, exec),
      span('arbiter.statement', 2, 3, exec),
      span('arbiter.statement', 3, 3.8, exec),
      commit,
      span('arbiter.prepare', 6.5, 8, commit),
      span('arbiter.prepare', 6.5, 9, commit),
      span('arbiter.decision.write', 9.5, 11, commit),
      span('arbiter.commit_branch', 11.2, 14, commit),
      span('arbiter.commit_branch', 11.2, 16, commit), // goes on after the Commit answered (durable)
      span('some.other.span', 0, 20, root), // not a phase: ignored
    ]
    const t = phasesOfTransfer(spans, [request('ExecuteBatch', 0.5, 4.5), request('Commit', 5.5, 16.5)])
    // toTm 0.5 + 0.5, answer 0.5 + 1.5, the TM's own time 0.2 + 0.2 (ExecuteBatch) + 0.5 + 0.5 + 0.2 (Commit), the rest client work.
    expect(round(t.phases)).toEqual({ toTm: 1, answer: 2, statements: 2.6, prepare: 2.5, decision: 1.5, phase2: 3.8, tmOther: 1.6, client: 5 })
    expect(sum(t.phases)).toBeCloseTo(20, 9)
    expect(t.requests).toBe(2)
    expect(t.clientSpan).toBeCloseTo(19.8, 9)
    expect(t.clockOverhangMs).toBe(0)
    const commitTiming = t.tmSpans.find((s) => s.name === 'arbiter.v1.TransactionManager/Commit')!
    expect(commitTiming.ms).toBe(9)
    expect(commitTiming.lead).toBeCloseTo(0.5, 9)
    expect(commitTiming.between).toBeCloseTo(0.5 + 0.2, 9)
    expect(commitTiming.tail).toBeCloseTo(0, 9)
  })

  it('local branches: the client\'s own prepare and commit around one Commit request', () => {
    const root = span('bench.transfer', 0, 10)
    const tx = span('arbiter.transaction', 0.2, 9.8, root)
    const commit = span('arbiter.v1.TransactionManager/Commit', 4.5, 6, tx)
    const spans = [
      root,
      tx,
      sql('begin', 0.5, 1, tx),
      sql('statement', 1, 2, tx),
      sql('prepare', 2.5, 4, tx),
      commit,
      span('arbiter.decision.write', 4.7, 5.8, commit),
      sql('commit', 6.6, 7.5, tx),
    ]
    const t = phasesOfTransfer(spans, [request('Commit', 4.2, 6.4)])
    expect(round(t.phases)).toEqual({ client: 3.9, toTm: 0.3, statements: 1.5, prepare: 1.5, tmOther: 0.4, decision: 1.1, phase2: 0.9, answer: 0.4 })
  })

  it('database steps: per kind and database, on the application\'s connections (XA END + XA PREPARE one step) or in the TM', () => {
    const root = span('bench.transfer', 0, 10)
    const q = (phase: string, db: string, text: string, start: number, end: number): SpanRecord =>
      span('bench.sql', start, end, root, { 'bench.sql.phase': phase, 'bench.db': db, 'bench.sql': text })
    const run = span('arbiter.v1.TransactionManager/Run', 5, 9, root)
    const t = phasesOfTransfer(
      [
        root,
        q('statement', 'pg', 'UPDATE', 0, 0.2),
        q('statement', 'pg', 'INSERT', 0.2, 0.6),
        q('prepare', 'mysql', "XA END 'g'", 1, 1.1),
        q('prepare', 'mysql', "XA PREPARE 'g'", 1.1, 1.4),
        run,
        span('arbiter.prepare', 6, 7, run, { 'arbiter.resource': 'mysql' }),
      ],
      [request('Run', 4.9, 9.1)],
    )
    expect(t.dbSteps['statement/pg']!.n).toBe(2)
    expect(t.dbSteps['statement/pg']!.ms).toBeCloseTo(0.6, 9)
    expect(t.dbSteps['prepare/mysql']!.n).toBe(2)
    const steps = summarize('x', 'x', [t], 0, undefined).dbSteps
    expect(steps['statement/pg']!.p50).toBeCloseTo(0.3, 9)
    // The application's XA END + XA PREPARE (0.4) and the TM's prepare (1): two steps of 0.7 on average.
    expect(steps['prepare/mysql']!.p50).toBeCloseTo(0.7, 9)
  })

  it('a TM span that overhangs its request (clocks apart) is noted; a missing one makes the trace unusable', () => {
    const root = span('bench.transfer', 0, 5)
    const run = span('arbiter.v1.TransactionManager/Run', 0.9, 3, root)
    expect(phasesOfTransfer([root, run], [request('Run', 1, 4)]).clockOverhangMs).toBeCloseTo(0.1, 9)
    expect(() => phasesOfTransfer([root], [request('Run', 1, 4)])).toThrow(/no TM span for Run/)
    expect(() => phasesOfTransfer([run], [])).toThrow(/no bench.transfer/)
  })
})

describe('statistics and the floor', () => {
  it('statOf: mean and nearest-rank percentiles', () => {
    expect(statOf([5, 1, 4, 2, 3, 6, 7, 8, 9, 10])).toEqual({ mean: 5.5, p50: 5, p90: 9 })
    expect(statOf([])).toEqual({ mean: 0, p50: 0, p90: 0 })
  })

  it('summarize and floorOf: raw 2PC + one TM round trip per request + one fsync', () => {
    const root = span('bench.transfer', 0, 4)
    const one = phasesOfTransfer([root, sql('statement', 1, 2, root)], [])
    const raw = summarize('raw-2pc', 'raw 2PC', [one, one], 1, [[3, 3], [3]])
    expect(raw.transfers).toBe(2)
    expect(raw.leftOut).toBe(1)
    expect(raw.phases.statements.p50).toBe(1)
    expect(PHASES.reduce((s, p) => s + raw.phases[p].mean, 0)).toBeCloseTo(raw.total.mean, 9)
    const tm = { ...raw, variant: 'tm-run', requestsPerTransfer: 1 }
    const floors = { tmRoundTrip: statOf([0.4]), tmRoundTripPhases: undefined, fsyncMs: 0.3, pgRoundTrip: statOf([0.2]), mysqlRoundTrip: statOf([0.2]) }
    expect(floorOf(raw, tm, floors)).toBeCloseTo(3.7, 9)
    expect(floorOf(raw, tm, { ...floors, fsyncMs: undefined })).toBeUndefined()
  })

  it('roundTripPhases: a probe request cut into its hop out, its time in the TM, its answer', () => {
    const root = span('bench.transfer', 0, 1)
    const get = span('arbiter.v1.TransactionManager/GetTransaction', 0.3, 0.5, root)
    const probe = phasesOfTransfer([root, get], [request('GetTransaction', 0.1, 0.8)])
    const r = roundTripPhases([probe, probe])!
    expect(r.toTm).toBeCloseTo(0.2, 9)
    expect(r.inTm).toBeCloseTo(0.2, 9)
    expect(r.answer).toBeCloseTo(0.3, 9)
    expect(roundTripPhases([])).toBeUndefined()
  })
})

describe('the TM\'s spans as its OTLP/HTTP JSON exporter posts them', () => {
  it('nanosecond strings → milliseconds after the base; attributes flattened', () => {
    const base = 1_700_000_000_000n * 1_000_000n
    const [s] = spansOfOtlp(
      {
        resourceSpans: [
          {
            scopeSpans: [
              {
                spans: [
                  {
                    traceId: T,
                    spanId: 'b'.repeat(16),
                    parentSpanId: '',
                    name: 'arbiter.prepare',
                    startTimeUnixNano: (base + 1_250_000n).toString(),
                    endTimeUnixNano: (base + 2_000_500n).toString(),
                    attributes: [
                      { key: 'arbiter.resource', value: { stringValue: 'pg' } },
                      { key: 'arbiter.attempts', value: { intValue: '2' } },
                      { key: 'ok', value: { boolValue: true } },
                    ],
                  },
                ],
              },
            ],
          },
        ],
      },
      base,
    )
    expect(s).toEqual({ traceId: T, spanId: 'b'.repeat(16), parentSpanId: undefined, name: 'arbiter.prepare', start: 1.25, end: 2.0005, attributes: { 'arbiter.resource': 'pg', 'arbiter.attempts': 2, ok: true } })
  })
})

describe('the breakdown part on the command line and in the report', () => {
  it('runs only when asked for, last, and names its own results', () => {
    expect(selectParts(undefined, undefined)).toEqual(['log', 'main', 'cluster', 'takeover'])
    expect(selectParts(undefined, undefined, true)).toEqual(['log', 'main', 'cluster', 'takeover', 'breakdown'])
    expect(selectParts('breakdown', undefined)).toEqual(['breakdown'])
    expect(outName(false, ['log', 'main', 'cluster', 'takeover', 'breakdown'])).toBe('latest')
    expect(outName(false, ['breakdown'])).toBe('latest-breakdown')
    expect(parseOptions(['--breakdown'], {})).toMatchObject({ breakdownTransfers: 400, out: 'latest' })
    expect(parseOptions(['--only', 'breakdown', '--breakdown-transfers', '50'], {})).toMatchObject({ breakdownTransfers: 50, out: 'latest-breakdown' })
    expect([...parseOptions([], { BENCH_BREAKDOWN: '1' }).parts]).toContain('breakdown')
  })

  it('renders its tables: medians (p90), means with what each variant adds to raw 2PC, the TM\'s spans, the floors', () => {
    const root = span('bench.transfer', 0, 4)
    const tx = span('arbiter.run', 0.1, 3.9, root)
    const run = span('arbiter.v1.TransactionManager/Run', 1, 3, tx)
    const rawT = phasesOfTransfer([root, sql('statement', 1, 2, root)], [])
    const runT = phasesOfTransfer([root, tx, run, span('arbiter.decision.write', 1.5, 2, run)], [request('Run', 0.5, 3.5)])
    const floors = { tmRoundTrip: statOf([0.4]), tmRoundTripPhases: { toTm: 0.1, inTm: 0.1, answer: 0.2 }, fsyncMs: 0.3, pgRoundTrip: statOf([0.2]), mysqlRoundTrip: statOf([0.2]) }
    const result = {
      version: 1,
      startedAt: '2026-01-01T00:00:00.000Z',
      wallSeconds: 60,
      command: 'npm run bench -- --only breakdown',
      environment: { cpuModel: 'cpu', cores: 2, memoryGiB: 8, os: 'Linux', node: 'v20', postgres: 'PostgreSQL 15', mariadb: 'MariaDB 10.11', durability: 'fsync', tmStatsSource: 'metrics' },
      settings: { quick: false, concurrencies: [], rounds: 3, roundSeconds: 4, warmupSeconds: 1.5, accountsPerBank: 100, pgPoolMax: 2, mysqlPoolMax: 2, grpcChannelsMax: 1, logWriters: [], logSeconds: 1 },
      cells: [],
      logBench: [],
      breakdown: {
        transfersPerVariant: 1,
        warmupPerVariant: 1,
        rounds: 1,
        variants: [summarize('raw-2pc', 'raw 2PC (no TM)', [rawT], 0, [[4], [4]]), summarize('tm-run', 'Arbiter: one-shot', [runT], 0, [[5], [6]])],
        floors,
        notes: ['a note'],
      },
    } satisfies BenchResult
    const md = renderMarkdown(result)
    expect(md).toContain('## Where the time goes')
    expect(md).toContain('| decision write + fsync | 0 | 0.50 (0.50) |')
    expect(md).toContain('| **total, traced** | **4.00** | **4.00 (+0.00)** |')
    // Untraced: 5 and 6 over two rounds (p50 of both: 5), raw 2PC 4 in each: 1.25× and 1.50×.
    expect(md).toContain('| untraced p50 ÷ raw 2PC\'s | 1.00× | 1.25× (rounds 1.25–1.50) |')
    // Floor: raw 2PC's untraced 4 + one request × 0.4 + 0.3.
    expect(md).toContain('| floor: raw 2PC + requests × TM round trip + one fsync | — | 4.70 |')
    expect(md).toContain('| `arbiter.v1.TransactionManager/Run` | 2.00 (1.0×; own 0.50 + 0.00 + 1.00) |')
    expect(md).toContain('- a note')
  })
})
