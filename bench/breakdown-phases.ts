// The per-phase breakdown's pure part (`npm run bench -- --breakdown`,
// breakdown.ts): one transfer's spans (the bench's, the client library's,
// the TM's, all on one clock) and the client's send and receive instants
// of its requests to the TM → where its time went, phase by phase; and the
// statistics over many transfers. No I/O.
//
// The phases partition the transfer's time: every instant of it counts in
// exactly one, the most specific one covering it (DB work before TM
// bookkeeping before the hops before the client):
//
//   decision    the TM's arbiter.decision.write (the log write, its fsync, a commit delay if any)
//   phase2      the TM's arbiter.commit_branch; COMMIT PREPARED / XA COMMIT on the application's connections
//   prepare     the TM's arbiter.prepare; PREPARE TRANSACTION / XA END + XA PREPARE on the application's connections
//   statements  the TM's arbiter.statement and arbiter.begin_branch; BEGIN / XA START and the statements on the application's connections
//   tmOther     inside a TM request span but in none of the above (the TM's own work, waits, event-loop turns)
//   toTm        from the client handing a request to gRPC until the TM's request span starts (serialization, loopback, the TM's decoding and scheduling)
//   answer      from the TM's request span's end until the client's gRPC receives the answer
//   client      the rest: the application's and the client library's work, the driver's work outside its queries, pool checkouts
//
// A TM step still running after its request span ended (phase 2 after a
// `durable` Commit answered) is not on the caller's path: TM spans are
// clipped to their request span, and everything to the transfer.

import { roundRatios } from './spread.js'

/** One span, times in milliseconds on a clock every process shares (epoch-based). */
export interface SpanRecord {
  readonly traceId: string
  readonly spanId: string
  /** Empty or undefined for a root. */
  readonly parentSpanId?: string | undefined
  readonly name: string
  readonly start: number
  readonly end: number
  readonly attributes: Readonly<Record<string, string | number | boolean>>
}

/** A request to the TM as the client's gRPC saw it: handed to the channel, answer received. */
export interface RequestTiming {
  readonly traceId: string
  /** The TransactionManager method, e.g. Commit. */
  readonly method: string
  readonly sentAt: number
  readonly receivedAt: number
}

export const PHASES = ['client', 'toTm', 'statements', 'prepare', 'tmOther', 'decision', 'phase2', 'answer'] as const
export type Phase = (typeof PHASES)[number]

export const PHASE_LABEL: Record<Phase, string> = {
  client: 'client work (application, client library, drivers, pool)',
  toTm: 'hop to the TM (gRPC out, loopback, the TM picking it up)',
  statements: 'statements (branch begin included)',
  prepare: 'prepare (parallel branches: the longest)',
  tmOther: 'TM, other (in a request, outside any DB step or log write)',
  decision: 'decision write + fsync',
  phase2: 'phase 2 (commit of the prepared branches)',
  answer: 'answer (TM → client)',
}

/** The name prefix of the TM's request spans. */
export const REQUEST_SPAN_PREFIX = 'arbiter.v1.TransactionManager/'
/** The bench's span around one transfer, and around one query on the application's connections. */
export const TRANSFER_SPAN = 'bench.transfer'
export const SQL_SPAN = 'bench.sql'
export const SQL_PHASE_ATTRIBUTE = 'bench.sql.phase'

export type SqlPhase = 'begin' | 'statement' | 'prepare' | 'commit' | 'rollback'

/** What a query on the application's connection is, from its text. */
export function classifySql(sql: string): SqlPhase {
  const head = sql.trimStart().slice(0, 40).toUpperCase().replace(/\s+/g, ' ')
  if (/^(BEGIN|START TRANSACTION|XA START|XA BEGIN)\b/.test(head)) return 'begin'
  if (/^(PREPARE TRANSACTION|XA END|XA PREPARE)\b/.test(head)) return 'prepare'
  if (/^(COMMIT|XA COMMIT|END)\b/.test(head)) return 'commit'
  if (/^(ROLLBACK|XA ROLLBACK|ABORT)\b/.test(head)) return 'rollback'
  return 'statement'
}

const SQL_PHASE_CATEGORY: Record<SqlPhase, Phase> = { begin: 'statements', statement: 'statements', prepare: 'prepare', commit: 'phase2', rollback: 'client' }

const TM_STEP_CATEGORY: Readonly<Record<string, Phase>> = {
  'arbiter.statement': 'statements',
  'arbiter.begin_branch': 'statements',
  'arbiter.prepare': 'prepare',
  'arbiter.decision.write': 'decision',
  'arbiter.commit_branch': 'phase2',
}

/** Higher wins where intervals overlap. */
const PRIORITY: Record<Phase, number> = { decision: 7, phase2: 6, prepare: 5, statements: 4, tmOther: 3, toTm: 2, answer: 1, client: 0 }

export interface TransferPhases {
  /** The transfer's span (what the main part's histogram times). */
  readonly total: number
  /** Milliseconds per phase; they add up to total. */
  readonly phases: Record<Phase, number>
  /** Requests to the TM. */
  readonly requests: number
  /** The client library's span (arbiter.transaction / arbiter.run), when there is one. */
  readonly clientSpan: number | undefined
  /** Requests whose TM span lay partly outside the client's send…receive (a clock disagreement), in ms: the largest overhang. */
  readonly clockOverhangMs: number
  /** The TM's spans one by one (requests and steps): where its time went in detail. */
  readonly tmSpans: readonly TmSpanTiming[]
  /** Database steps by kind and database (the application's queries or the TM's spans): summed ms, and how many. */
  readonly dbSteps: Readonly<Record<string, { readonly ms: number; readonly n: number }>>
}

export type DbStep = 'begin' | 'statement' | 'prepare' | 'commit'
export const DB_STEPS: readonly DbStep[] = ['begin', 'statement', 'prepare', 'commit']
const TM_DB_STEP: Readonly<Record<string, DbStep>> = {
  'arbiter.begin_branch': 'begin',
  'arbiter.statement': 'statement',
  'arbiter.prepare': 'prepare',
  'arbiter.commit_branch': 'commit',
}

/**
 * The key of a database step: its kind and the database. A branch's prepare
 * on MariaDB is two queries (XA END, XA PREPARE) on the application's
 * connection and one span in the TM: both count as one step.
 */
export const dbStepKey = (step: DbStep, db: string): string => `${step}/${db}`

/** One TM span's duration; for a request, its own time before its first step, between steps, and after its last (`TM, other`). */
export interface TmSpanTiming {
  readonly name: string
  readonly ms: number
  readonly lead?: number
  readonly between?: number
  readonly tail?: number
}

interface Interval {
  readonly start: number
  readonly end: number
  readonly phase: Phase
}

const zeroPhases = (): Record<Phase, number> => ({ client: 0, toTm: 0, statements: 0, prepare: 0, tmOther: 0, decision: 0, phase2: 0, answer: 0 })

/** Splits [from, to] among intervals, the highest priority taking each instant; what none covers is `client`. */
export function partition(from: number, to: number, intervals: readonly Interval[]): Record<Phase, number> {
  const out = zeroPhases()
  const clipped = intervals
    .map((i) => ({ start: Math.max(from, i.start), end: Math.min(to, i.end), phase: i.phase }))
    .filter((i) => i.end > i.start)
  const cuts = [...new Set([from, to, ...clipped.flatMap((i) => [i.start, i.end])])].sort((a, b) => a - b)
  for (let k = 0; k + 1 < cuts.length; k++) {
    const a = cuts[k]!
    const b = cuts[k + 1]!
    let best: Phase = 'client'
    for (const i of clipped) if (i.start <= a && i.end >= b && PRIORITY[i.phase] > PRIORITY[best]) best = i.phase
    out[best] += b - a
  }
  return out
}

/**
 * One transfer: `spans` are every span of its trace (the bench's root
 * `bench.transfer` among them, the TM's too), `requests` the client's
 * timings of its requests in that trace. The TM's request spans are matched
 * to the requests in order, method by method. Throws when the trace is
 * incomplete (a TM span missing: not exported, or the request never reached it).
 */
export function phasesOfTransfer(spans: readonly SpanRecord[], requests: readonly RequestTiming[]): TransferPhases {
  const root = spans.find((s) => s.name === TRANSFER_SPAN && !s.parentSpanId)
  if (!root) throw new Error(`no ${TRANSFER_SPAN} root span`)
  const byId = new Map(spans.map((s) => [s.spanId, s]))
  const intervals: Interval[] = []

  // The TM's requests, matched to the client's timings method by method, in order.
  const requestSpans = spans.filter((s) => s.name.startsWith(REQUEST_SPAN_PREFIX)).sort((a, b) => a.start - b.start)
  const timings = [...requests].sort((a, b) => a.sentAt - b.sentAt)
  let overhang = 0
  const used = new Set<SpanRecord>()
  for (const r of timings) {
    const s = requestSpans.find((x) => !used.has(x) && x.name === REQUEST_SPAN_PREFIX + r.method)
    if (!s) throw new Error(`no TM span for ${r.method} (sent at ${r.sentAt.toFixed(3)})`)
    used.add(s)
    overhang = Math.max(overhang, r.sentAt - s.start, s.end - r.receivedAt)
    intervals.push({ start: r.sentAt, end: s.start, phase: 'toTm' }, { start: s.end, end: r.receivedAt, phase: 'answer' })
  }
  for (const s of requestSpans) intervals.push({ start: s.start, end: s.end, phase: 'tmOther' })

  // The TM's steps, each within its request.
  const requestOf = (s: SpanRecord): SpanRecord | undefined => {
    for (let p = s.parentSpanId ? byId.get(s.parentSpanId) : undefined; p; p = p.parentSpanId ? byId.get(p.parentSpanId) : undefined) {
      if (p.name.startsWith(REQUEST_SPAN_PREFIX)) return p
    }
    return undefined
  }
  for (const s of spans) {
    const phase = TM_STEP_CATEGORY[s.name]
    if (phase === undefined) continue
    const request = requestOf(s)
    if (!request) continue
    intervals.push({ start: Math.max(s.start, request.start), end: Math.min(s.end, request.end), phase })
  }

  // Queries on the application's own connections.
  for (const s of spans) {
    if (s.name !== SQL_SPAN) continue
    const sqlPhase = s.attributes[SQL_PHASE_ATTRIBUTE]
    const phase = typeof sqlPhase === 'string' && sqlPhase in SQL_PHASE_CATEGORY ? SQL_PHASE_CATEGORY[sqlPhase as SqlPhase] : 'statements'
    if (phase !== 'client') intervals.push({ start: s.start, end: s.end, phase })
  }

  const tmSpans: TmSpanTiming[] = []
  for (const s of spans) {
    if (s.name.startsWith(REQUEST_SPAN_PREFIX)) {
      const steps = spans.filter((c) => c.parentSpanId === s.spanId && TM_STEP_CATEGORY[c.name] !== undefined)
      if (steps.length === 0) {
        tmSpans.push({ name: s.name, ms: s.end - s.start, lead: s.end - s.start, between: 0, tail: 0 })
        continue
      }
      const first = Math.max(s.start, Math.min(...steps.map((c) => c.start)))
      const last = Math.min(s.end, Math.max(...steps.map((c) => c.end)))
      const inner = partition(first, last, steps.map((c) => ({ start: c.start, end: c.end, phase: TM_STEP_CATEGORY[c.name]! })))
      tmSpans.push({ name: s.name, ms: s.end - s.start, lead: first - s.start, between: inner.client, tail: Math.max(0, s.end - last) })
    } else if (TM_STEP_CATEGORY[s.name] !== undefined) {
      tmSpans.push({ name: s.name, ms: s.end - s.start })
    }
  }

  const dbSteps: Record<string, { ms: number; n: number }> = {}
  const addStep = (step: DbStep, db: unknown, ms: number, counts: boolean): void => {
    if (typeof db !== 'string') return
    const entry = (dbSteps[dbStepKey(step, db)] ??= { ms: 0, n: 0 })
    entry.ms += ms
    if (counts) entry.n += 1
  }
  for (const s of spans) {
    const tmStep = TM_DB_STEP[s.name]
    if (tmStep !== undefined) addStep(tmStep, s.attributes['arbiter.resource'], s.end - s.start, true)
    if (s.name !== SQL_SPAN) continue
    const kind = s.attributes[SQL_PHASE_ATTRIBUTE]
    if (kind === 'begin' || kind === 'statement' || kind === 'prepare' || kind === 'commit') {
      // XA END opens a MariaDB branch's prepare: XA PREPARE completes the same step.
      const xaEnd = kind === 'prepare' && /^\s*XA\s+END\b/i.test(String(s.attributes['bench.sql'] ?? ''))
      addStep(kind, s.attributes['bench.db'], s.end - s.start, !xaEnd)
    }
  }

  const clientSpan = spans.find((s) => s.name === 'arbiter.transaction' || s.name === 'arbiter.run')
  return {
    total: root.end - root.start,
    phases: partition(root.start, root.end, intervals),
    requests: timings.length,
    clientSpan: clientSpan ? clientSpan.end - clientSpan.start : undefined,
    clockOverhangMs: Math.max(0, overhang),
    tmSpans,
    dbSteps,
  }
}

/** One TM span name over a variant's transfers: how often per transfer, and its medians. */
export interface TmSpanSummary {
  readonly name: string
  readonly perTransfer: number
  readonly ms: Stat
  readonly lead?: number
  readonly between?: number
  readonly tail?: number
}

export function tmSpanSummary(transfers: readonly TransferPhases[]): TmSpanSummary[] {
  const byName = new Map<string, TmSpanTiming[]>()
  for (const t of transfers) for (const s of t.tmSpans) (byName.get(s.name) ?? byName.set(s.name, []).get(s.name)!).push(s)
  const median = (xs: (number | undefined)[]): number | undefined => {
    const v = xs.filter((x): x is number => x !== undefined)
    return v.length ? statOf(v).p50 : undefined
  }
  return [...byName].map(([name, xs]) => {
    const lead = median(xs.map((x) => x.lead))
    const between = median(xs.map((x) => x.between))
    const tail = median(xs.map((x) => x.tail))
    return {
      name,
      perTransfer: transfers.length ? xs.length / transfers.length : 0,
      ms: statOf(xs.map((x) => x.ms)),
      ...(lead !== undefined && { lead }),
      ...(between !== undefined && { between }),
      ...(tail !== undefined && { tail }),
    }
  })
}

/** What an OTLP/HTTP JSON exporter posts to /v1/traces (the fields read here). */
export interface OtlpRequest {
  readonly resourceSpans?: readonly { readonly scopeSpans?: readonly { readonly spans?: readonly OtlpSpan[] }[] }[]
}

interface OtlpSpan {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
  readonly name: string
  /** Nanoseconds since the epoch: a decimal string in JSON (a number from some exporters). */
  readonly startTimeUnixNano: string | number
  readonly endTimeUnixNano: string | number
  readonly attributes?: readonly { readonly key: string; readonly value: OtlpValue }[]
}

interface OtlpValue {
  readonly stringValue?: string
  readonly intValue?: string | number
  readonly doubleValue?: number
  readonly boolValue?: boolean
}

/** OTLP JSON spans → SpanRecords, times in ms after `baseNs` (epoch nanoseconds). */
export function spansOfOtlp(body: OtlpRequest, baseNs: bigint): SpanRecord[] {
  const ms = (ns: string | number): number => Number(BigInt(ns) - baseNs) / 1e6
  const out: SpanRecord[] = []
  for (const rs of body.resourceSpans ?? []) {
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const attributes: Record<string, string | number | boolean> = {}
        for (const a of s.attributes ?? []) {
          const v = a.value
          const value = v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : (v.doubleValue ?? v.boolValue))
          if (value !== undefined) attributes[a.key] = value
        }
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          start: ms(s.startTimeUnixNano),
          end: ms(s.endTimeUnixNano),
          attributes,
        })
      }
    }
  }
  return out
}

/** Mean, median and 90th percentile (nearest rank). */
export interface Stat {
  readonly mean: number
  readonly p50: number
  readonly p90: number
}

export function statOf(values: readonly number[]): Stat {
  if (values.length === 0) return { mean: 0, p50: 0, p90: 0 }
  const sorted = [...values].sort((a, b) => a - b)
  const rank = (p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!
  return { mean: sorted.reduce((s, v) => s + v, 0) / sorted.length, p50: rank(0.5), p90: rank(0.9) }
}

/** Per step kind and database: the median over transfers of its ms per step (a transfer's total ÷ its count). */
export function dbStepSummary(transfers: readonly TransferPhases[]): Record<string, Stat> {
  const perStep = new Map<string, number[]>()
  for (const t of transfers) {
    for (const [key, { ms, n }] of Object.entries(t.dbSteps)) if (n > 0) (perStep.get(key) ?? perStep.set(key, []).get(key)!).push(ms / n)
  }
  return Object.fromEntries([...perStep].map(([key, values]) => [key, statOf(values)]))
}

/** One variant's transfers, summed up. */
export interface VariantBreakdown {
  readonly variant: string
  readonly label: string
  /** Transfers measured (traced, complete). */
  readonly transfers: number
  /** Transfers left out: failed, or their trace incomplete. */
  readonly leftOut: number
  readonly total: Stat
  readonly phases: Record<Phase, Stat>
  readonly requestsPerTransfer: number
  readonly clientSpan: Stat | undefined
  /** The same variant with tracing off (the bench's spans and the TM's), in the same rounds: latency of a transfer, ms. */
  readonly untraced: Stat | undefined
  /** The untraced p50 of each round (the rounds ran every variant, shuffled): the spread of a ratio. */
  readonly untracedRoundP50s: readonly number[]
  /** Transfers whose TM spans overhung the client's send…receive by more than 0.05 ms (clock disagreement between processes). */
  readonly clockOverhangs: number
  /** The TM's spans by name: requests (with their own time before, between and after their steps) and steps. */
  readonly tmSpans: readonly TmSpanSummary[]
  /** One database step (dbStepKey) as this variant does it: on the application's connections or in the TM; ms per step. */
  readonly dbSteps: Readonly<Record<string, Stat>>
}

/** `untracedRounds`: the untraced latencies, ms, round by round. */
export function summarize(
  variant: string,
  label: string,
  transfers: readonly TransferPhases[],
  leftOut: number,
  untracedRounds: readonly (readonly number[])[] | undefined,
): VariantBreakdown {
  const untraced = untracedRounds?.flat()
  const phases = zeroPhases() as unknown as Record<Phase, Stat>
  for (const p of PHASES) phases[p] = statOf(transfers.map((t) => t.phases[p]))
  const clientSpans = transfers.map((t) => t.clientSpan).filter((v): v is number => v !== undefined)
  return {
    variant,
    label,
    transfers: transfers.length,
    leftOut,
    total: statOf(transfers.map((t) => t.total)),
    phases,
    requestsPerTransfer: transfers.length ? transfers.reduce((s, t) => s + t.requests, 0) / transfers.length : 0,
    clientSpan: clientSpans.length ? statOf(clientSpans) : undefined,
    untraced: untraced && untraced.length ? statOf(untraced) : undefined,
    untracedRoundP50s: (untracedRounds ?? []).filter((r) => r.length > 0).map((r) => statOf(r).p50),
    clockOverhangs: transfers.filter((t) => t.clockOverhangMs > 0.05).length,
    tmSpans: tmSpanSummary(transfers),
    dbSteps: dbStepSummary(transfers),
  }
}

/** A request-answer cut into its hop out, its time in the TM's request span, and its answer (medians, ms). */
export interface RoundTripPhases {
  readonly toTm: number
  readonly inTm: number
  readonly answer: number
}

/** Medians of the hop out, the TM's time and the answer over probes (each a transfer-like trace of one request). */
export function roundTripPhases(probes: readonly TransferPhases[]): RoundTripPhases | undefined {
  if (probes.length === 0) return undefined
  const median = (xs: number[]): number => statOf(xs).p50
  const inTm = (p: TransferPhases): number => PHASES.filter((x) => x !== 'client' && x !== 'toTm' && x !== 'answer').reduce((s, x) => s + p.phases[x], 0)
  return { toTm: median(probes.map((p) => p.phases.toTm)), inTm: median(probes.map(inTm)), answer: median(probes.map((p) => p.phases.answer)) }
}

/** The physical floor's pieces, measured in the same part. */
export interface Floors {
  /** A request-answer to the TM that does nothing (GetTransaction of an unknown transaction), untraced, as the client times it. */
  readonly tmRoundTrip: Stat
  /** The same request traced: its hop out, its time in the TM, its answer (medians). */
  readonly tmRoundTripPhases: RoundTripPhases | undefined
  /** The traced request again, each after both processes idled 2 ms (as a TM does between one transfer's requests at concurrency 1). */
  readonly tmRoundTripAfterIdle?: { readonly total: Stat; readonly phases: RoundTripPhases | undefined }
  /** One decision-log write + fsync alone (FileDecisionLog, one writer, one fsync per decision): mean ms. */
  readonly fsyncMs: number | undefined
  /** A query that does nothing (SELECT 1) on the bench's own connections, untraced. */
  readonly pgRoundTrip: Stat
  readonly mysqlRoundTrip: Stat
}

export interface BreakdownResult {
  readonly transfersPerVariant: number
  readonly warmupPerVariant: number
  readonly rounds: number
  readonly variants: readonly VariantBreakdown[]
  readonly floors: Floors
  /** The TM's own figures of the run, e.g. commit delay settings. */
  readonly notes: readonly string[]
}

/** The lowest and highest per-round ratio of `variant`'s untraced p50 to raw 2PC's in the same round. */
export function roundRatioSpread(raw: VariantBreakdown, variant: VariantBreakdown): { min: number; max: number } | undefined {
  const ratios = roundRatios(variant.untracedRoundP50s, raw.untracedRoundP50s)
  return ratios.length ? { min: Math.min(...ratios), max: Math.max(...ratios) } : undefined
}

/**
 * The latency floor of an Arbiter variant: raw 2PC's, plus one request-answer
 * to the TM per request it makes, plus one decision-log fsync (medians).
 */
export function floorOf(raw: VariantBreakdown, variant: VariantBreakdown, floors: Floors): number | undefined {
  const rawMs = raw.untraced?.p50 ?? raw.total.p50
  if (floors.fsyncMs === undefined) return undefined
  return rawMs + Math.round(variant.requestsPerTransfer) * floors.tmRoundTrip.p50 + floors.fsyncMs
}
