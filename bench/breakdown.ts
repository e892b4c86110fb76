// The per-phase breakdown (`npm run bench -- --breakdown`, or `--only
// breakdown`; issue #24 "See first"): one transfer at a time, each Arbiter
// variant against raw 2PC, and where each millisecond goes: client work, the
// hop to the TM, statements, prepare, the decision write and its fsync, phase
// 2, the answer (breakdown-phases.ts says how they are cut).
//
// From traces. The TM runs with tracing.otlpEndpoint pointing at a small
// OTLP/HTTP JSON collector in this process (samplingRatio 1; its spans leave
// at its graceful stop, so no export runs while transfers are timed), and
// this process registers an SDK tracer provider of its own, so the client
// library's spans and the bench's are recorded in memory: a span around each
// transfer, the start and end of each query on the application's connections,
// and the instants the client's gRPC hands each request to the channel and
// gets its answer (a client interceptor). Both processes stamp spans at the
// microsecond on performance.timeOrigin + now() (breakdown-tm-clock.js).
//
// In the same rounds, shuffled, every variant also runs untraced (a second
// TM without tracing; in this process no span, no trace context, no query
// records): its latency says what tracing costs. This part registers the
// global tracer provider: it runs last, and nothing else in this process is
// traced.
import { writeFileSync } from 'node:fs'
import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { gunzipSync } from 'node:zlib'
import * as grpc from '@grpc/grpc-js'
import { INVALID_SPANID, INVALID_TRACEID, ROOT_CONTEXT, context, trace } from '@opentelemetry/api'
import {
  BatchSpanProcessor,
  InMemorySpanExporter,
  RandomIdGenerator,
  SamplingDecision,
  type IdGenerator,
  type ReadableSpan,
  type Sampler,
  type Span,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base'
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient, type ArbiterClient } from '../client/index.js'
import { totalBalance } from '../examples/bank-transfer/schema.js'
import { applyEnv, parseConfig } from '../server/config.js'
import {
  REQUEST_SPAN_PREFIX,
  SQL_PHASE_ATTRIBUTE,
  SQL_SPAN,
  TRANSFER_SPAN,
  classifySql,
  phasesOfTransfer,
  roundTripPhases,
  statOf,
  summarize,
  spansOfOtlp,
  type BreakdownResult,
  type OtlpRequest,
  type RequestTiming,
  type SpanRecord,
  type TransferPhases,
  type VariantBreakdown,
} from './breakdown-phases.js'
import { shuffle } from './closed-loop.js'
import { logBench } from './log-bench.js'
import type { Options } from './options.js'
import { VARIANT_LABEL, type Variant } from './result.js'
import { sanityCheck, type Sanity } from './sanity.js'
import { benchTmConfig, startBenchTm, type BenchTm } from './tm-process.js'
import { machineCpu } from './tm-stats.js'
import { randomTransfer, runTransfer, type Workload } from './workload.js'

/** The variants the breakdown compares, in this order (raw 2PC always). */
export const BREAKDOWN_VARIANTS: readonly Variant[] = ['raw-2pc', 'tm-enlist', 'tm-run', 'tm-execute']

export interface BreakdownInput {
  readonly options: Options
  readonly pgUrl: string
  readonly mysqlUrl: string
  readonly say: (line: string) => void
}

export interface BreakdownPart {
  readonly result: BreakdownResult
  readonly sanity: Sanity
}

// ── one clock for every span: epoch milliseconds, as offsets from BASE_MS ────
const BASE_MS = Math.floor(performance.timeOrigin)
const BASE_NS = BigInt(BASE_MS) * 1_000_000n
const ORIGIN_NS = BigInt(Math.trunc(performance.timeOrigin)) * 1_000_000n + BigInt(Math.round((performance.timeOrigin % 1) * 1e6))
const nowMs = (): number => performance.timeOrigin - BASE_MS + performance.now()
const nsToMs = (ns: bigint): number => Number(ns - BASE_NS) / 1e6
const hrToMs = (t: readonly [number, number]): number => nsToMs(BigInt(t[0]) * 1_000_000_000n + BigInt(t[1]))

/** Restamps a span's start at the microsecond (the SDK takes Date.now(), whole milliseconds): see breakdown-tm-clock.js. */
const preciseClock: SpanProcessor = {
  onStart(span: Span) {
    const started = (span as unknown as { _performanceStartTime?: unknown })._performanceStartTime
    if (typeof started !== 'number') return
    const ns = ORIGIN_NS + BigInt(Math.round(started * 1e6))
    ;(span as unknown as { startTime: [number, number] }).startTime = [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]
  },
  onEnd: () => undefined,
  forceFlush: async () => undefined,
  shutdown: async () => undefined,
}

/**
 * Tracing in this process, switched per transfer (a traced or an untraced
 * one). Off, spans get invalid ids: the client library then takes its path
 * for an application without a tracer provider (no span made active, no
 * trace context sent).
 */
const tracingOn = { value: false }
const switchSampler: Sampler = {
  shouldSample: () => ({ decision: tracingOn.value ? SamplingDecision.RECORD_AND_SAMPLED : SamplingDecision.NOT_RECORD }),
  toString: () => 'breakdown switch',
}
const randomIds = new RandomIdGenerator()
const switchIds: IdGenerator = {
  generateTraceId: () => (tracingOn.value ? randomIds.generateTraceId() : INVALID_TRACEID),
  generateSpanId: () => (tracingOn.value ? randomIds.generateSpanId() : INVALID_SPANID),
}

// ── the collector: OTLP/HTTP JSON, what the TM's exporter sends ──────────────
class OtlpCollector {
  readonly spans: SpanRecord[] = []
  posts = 0
  private server: Server | undefined

  async start(): Promise<string> {
    const server = (this.server = createServer((req, res) => {
      this.read(req)
        .then((body) => {
          if (req.method === 'POST' && req.url === '/v1/traces') {
            this.posts++
            this.spans.push(...spansOfOtlp(JSON.parse(body.toString('utf8')) as OtlpRequest, BASE_NS))
          }
          res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
        })
        .catch((error: unknown) => res.writeHead(400, { 'content-type': 'text/plain' }).end(String(error)))
    }))
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`
  }

  private async read(req: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = []
    for await (const chunk of req) chunks.push(chunk as Buffer)
    const raw = Buffer.concat(chunks)
    return req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()))
  }
}

// ── the client's send and receive instants (a gRPC client interceptor) ──────
const KINDS = ['begin', 'execute', 'executeBatch', 'enlist', 'commit', 'completeLocalBranches', 'rollback', 'getTransaction', 'run'] as const
const methodOf = (kind: string): string => kind.charAt(0).toUpperCase() + kind.slice(1)

class RequestClock {
  readonly timings: RequestTiming[] = []
  private readonly open = new Map<number, { traceId: string; method: string; sentAt: number }>()

  readonly interceptor: grpc.Interceptor = (options, nextCall) =>
    new grpc.InterceptingCall(nextCall(options), {
      start: (metadata, listener, next) => {
        next(metadata, {
          onReceiveMessage: (message: unknown, nextMessage: (m: unknown) => void) => {
            this.received(message)
            nextMessage(message)
          },
        })
      },
      sendMessage: (message: unknown, next: (m: unknown) => void) => {
        this.sent(message)
        next(message)
      },
    })

  private sent(message: unknown): void {
    if (!tracingOn.value) return
    const at = nowMs()
    const m = message as { requests?: unknown[] }
    for (const r of (m.requests ?? [message]) as Record<string, unknown>[]) {
      const traceId = /^00-([0-9a-f]{32})-/.exec(typeof r.traceparent === 'string' ? r.traceparent : '')?.[1]
      const kind = KINDS.find((k) => r[k] !== undefined && r[k] !== null)
      if (traceId && kind && typeof r.id === 'number') this.open.set(r.id, { traceId, method: methodOf(kind), sentAt: at })
    }
  }

  private received(message: unknown): void {
    const at = nowMs()
    const m = message as { responses?: unknown[] }
    for (const r of (m.responses ?? [message]) as { id?: number }[]) {
      const o = typeof r.id === 'number' ? this.open.get(r.id) : undefined
      if (!o) continue
      this.open.delete(r.id!)
      this.timings.push({ ...o, receivedAt: at })
    }
  }
}

// ── the queries on the application's connections ─────────────────────────────
// Recorded as plain spans (no SDK span each: cheaper, so less of the bench's
// own cost lands inside the phases it measures), joined by trace id later.
const wrapped = new WeakSet<object>()
const queries: SpanRecord[] = []
let queryIds = 0

function sqlText(first: unknown): string {
  if (typeof first === 'string') return first
  const o = first as { text?: unknown; sql?: unknown } | null
  return typeof o?.text === 'string' ? o.text : typeof o?.sql === 'string' ? o.sql : ''
}

/** Wraps a connection's query(): a bench.sql record (its db and kind) of each, while a traced transfer runs. */
function traceQueries(target: object, db: 'pg' | 'mysql'): void {
  if (wrapped.has(target)) return
  wrapped.add(target)
  const holder = target as { query: (...args: unknown[]) => unknown }
  const original = holder.query
  holder.query = function (this: unknown, ...args: unknown[]): unknown {
    const traceId = tracingOn.value ? trace.getSpan(context.active())?.spanContext().traceId : undefined
    if (traceId === undefined) return original.apply(this, args)
    const start = nowMs()
    const done = (): void => {
      const text = sqlText(args[0])
      const attributes = { 'bench.db': db, [SQL_PHASE_ATTRIBUTE]: classifySql(text), 'bench.sql': text.slice(0, 40) }
      queries.push({ traceId, spanId: `q${++queryIds}`, name: SQL_SPAN, start, end: nowMs(), attributes })
    }
    const last = args.length - 1
    const callback = args[last]
    if (typeof callback === 'function') {
      // mysql2's callback connection (the promise API's queries and the client library's XA steps go through it).
      args[last] = function (this: unknown, ...results: unknown[]): unknown {
        done()
        return (callback as (...a: unknown[]) => unknown).apply(this, results)
      }
      return original.apply(this, args)
    }
    const result = original.apply(this, args)
    if (result instanceof Promise) result.then(done, done)
    else done()
    return result
  }
}

// ── the part ─────────────────────────────────────────────────────────────────
interface Mode {
  readonly variant: Variant
  readonly traced: boolean
}

function toRecord(s: ReadableSpan): SpanRecord {
  return {
    traceId: s.spanContext().traceId,
    spanId: s.spanContext().spanId,
    parentSpanId: s.parentSpanContext?.spanId,
    name: s.name,
    start: hrToMs(s.startTime),
    end: hrToMs(s.endTime),
    attributes: Object.fromEntries(Object.entries(s.attributes).filter((e): e is [string, string | number | boolean] => ['string', 'number', 'boolean'].includes(typeof e[1]))),
  }
}

export async function runBreakdown(input: BreakdownInput): Promise<BreakdownPart> {
  const { options, say } = input
  const variants = BREAKDOWN_VARIANTS.filter((v) => v === 'raw-2pc' || options.variants.includes(v))
  const perVariant = options.breakdownTransfers
  const rounds = Math.max(1, options.rounds)
  const warmup = Math.max(10, Math.round(perVariant / 8))

  // 1. The fsync floor first, while nothing else runs: one decision-log write + fsync alone.
  const [logRow] = await logBench([1], options.quick ? 0.5 : 1.5, (line) => say(`breakdown floor: ${line}`))
  const fsyncMs = logRow && logRow.perDecision.decisionsPerS > 0 ? 1000 / logRow.perDecision.decisionsPerS : undefined

  // 2. Tracing in this process (switched per transfer), and the collector for the TM's spans.
  const memory = new InMemorySpanExporter()
  // Batched, exported at the end: no export work while transfers are timed.
  const batch = new BatchSpanProcessor(memory, { scheduledDelayMillis: 3_600_000, maxQueueSize: 1_000_000, maxExportBatchSize: 1_000_000 })
  const provider = new NodeTracerProvider({ sampler: switchSampler, idGenerator: switchIds, spanProcessors: [preciseClock, batch] })
  provider.register()
  const tracer = trace.getTracer('arbiter-bench')
  const collector = new OtlpCollector()
  const endpoint = await collector.start()
  const clock = new RequestClock()

  const pgPool = new pg.Pool({ connectionString: input.pgUrl, max: 2 })
  pgPool.on('error', () => undefined)
  pgPool.on('connect', (client) => traceQueries(client, 'pg'))
  const mysqlPool = mysql.createPool({ uri: input.mysqlUrl, connectionLimit: 2, resetOnRelease: false })
  mysqlPool.on('connection', (connection) => traceQueries(connection, 'mysql'))

  const resources = [
    { name: 'pg', kind: 'postgres' as const, url: input.pgUrl, poolSize: 2 },
    { name: 'mysql', kind: 'mysql' as const, url: input.mysqlUrl, poolSize: 2 },
  ]
  const started: BenchTm[] = []
  const clients: ArbiterClient[] = []
  try {
    const balanceBefore = await totalBalance(pgPool, mysqlPool)
    const clockModule = pathToFileURL(fileURLToPath(new URL('./breakdown-tm-clock.js', import.meta.url))).href
    const traced = await startBenchTm(benchTmConfig(resources, { tracing: { otlpEndpoint: endpoint, samplingRatio: 1, serviceName: 'arbiter-bench' } }), {
      env: {
        NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${clockModule}`.trim(),
        // Every span stays in the TM until its graceful stop: no export while transfers are timed.
        OTEL_BSP_SCHEDULE_DELAY: String(3_600_000),
        OTEL_BSP_MAX_QUEUE_SIZE: String(1_000_000),
        OTEL_BSP_MAX_EXPORT_BATCH_SIZE: String(1_000_000),
        OTEL_BSP_EXPORT_TIMEOUT: String(120_000),
      },
    })
    started.push(traced)
    const untraced = await startBenchTm(benchTmConfig(resources))
    started.push(untraced)
    if (!traced.tm.logs().includes('"tracing on"')) throw new Error('the traced TM did not turn tracing on')
    say(`breakdown: traced TM pid ${traced.tm.pid}, untraced TM pid ${untraced.tm.pid}; ${perVariant} transfers per variant and mode in ${rounds} round(s) after ${warmup} to warm up`)

    const channel = { 'grpc.use_local_subchannel_pool': 1 }
    const tracedClient = createArbiterClient({ address: traced.tm.address, defaultDeadlineMs: 30_000, channelOptions: { ...channel, interceptors: [clock.interceptor] } })
    const untracedClient = createArbiterClient({ address: untraced.tm.address, defaultDeadlineMs: 30_000, channelOptions: channel })
    clients.push(tracedClient, untracedClient)
    const workload = (tracedMode: boolean): Workload => ({
      pgPool,
      mysqlPool,
      accountsPerBank: options.accounts,
      clientFor: () => (tracedMode ? tracedClient : untracedClient),
    })

    const traces = new Map<Variant, string[]>()
    const untracedMs = new Map<Variant, number[][]>()
    const failed = new Map<Variant, number>()
    /** `round`: the measured round it counts in (undefined: a warm-up, not recorded). */
    const once = async (mode: Mode, round: number | undefined): Promise<void> => {
      const record = round !== undefined
      const w = workload(mode.traced)
      const transfer = randomTransfer(options.accounts)
      tracingOn.value = mode.traced
      try {
        if (!mode.traced) {
          const t0 = performance.now()
          await runTransfer(mode.variant, w, 0, transfer)
          if (round !== undefined) {
            const byRound = untracedMs.get(mode.variant) ?? untracedMs.set(mode.variant, []).get(mode.variant)!
            ;(byRound[round] ??= []).push(performance.now() - t0)
          }
          return
        }
        const span = tracer.startSpan(TRANSFER_SPAN, { attributes: { 'bench.variant': mode.variant } }, ROOT_CONTEXT)
        try {
          await context.with(trace.setSpan(ROOT_CONTEXT, span), () => runTransfer(mode.variant, w, 0, transfer))
          if (record) (traces.get(mode.variant) ?? traces.set(mode.variant, []).get(mode.variant)!).push(span.spanContext().traceId)
        } finally {
          span.end()
        }
      } catch {
        if (record) failed.set(mode.variant, (failed.get(mode.variant) ?? 0) + 1)
      } finally {
        tracingOn.value = false
      }
    }

    const modes: Mode[] = variants.flatMap((variant) => [
      { variant, traced: true },
      { variant, traced: false },
    ])
    for (const mode of modes) for (let i = 0; i < warmup; i++) await once(mode, undefined)
    const machineBefore = machineCpu()
    const roundsStarted = performance.now()
    for (let r = 0; r < rounds; r++) {
      const share = Math.ceil(perVariant / rounds)
      for (const mode of shuffle([...modes])) {
        const n = Math.min(share, perVariant - r * share)
        for (let i = 0; i < n; i++) await once(mode, r)
      }
      say(`breakdown: round ${r + 1}/${rounds} done`)
    }
    const machineAfter = machineCpu()
    const roundsSeconds = (performance.now() - roundsStarted) / 1000
    const machineBusy = machineBefore && machineAfter ? (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total) : undefined

    // 3. Floors: a request-answer to the TM that does nothing, traced and not (and traced after both processes idled,
    // as between a transfer's requests); a query that does nothing on each database.
    const probes = Math.min(200, perVariant)
    const probeTraces: string[] = []
    const idleProbeTraces: string[] = []
    const idleProbeMs: number[] = []
    const tracedProbe = async (into: string[]): Promise<number> => {
      tracingOn.value = true
      const span = tracer.startSpan(TRANSFER_SPAN, { attributes: { 'bench.variant': 'probe' } }, ROOT_CONTEXT)
      const t0 = performance.now()
      await context.with(trace.setSpan(ROOT_CONTEXT, span), () => tracedClient.getTransaction(unknownGtrid).catch(() => undefined))
      const ms = performance.now() - t0
      span.end()
      tracingOn.value = false
      into.push(span.spanContext().traceId)
      return ms
    }
    const tmRoundTrip: number[] = []
    const pgRoundTrip: number[] = []
    const mysqlRoundTrip: number[] = []
    const unknownGtrid = 'x:01ARZ3NDEKTSV4RRFFQ69G5FAV'
    for (let i = 0; i < probes; i++) {
      let t0 = performance.now()
      await untracedClient.getTransaction(unknownGtrid).catch(() => undefined)
      tmRoundTrip.push(performance.now() - t0)
      await tracedProbe(probeTraces)
      if (i % 2 === 0) {
        await new Promise((resolve) => setTimeout(resolve, 2))
        idleProbeMs.push(await tracedProbe(idleProbeTraces))
      }
      t0 = performance.now()
      await pgPool.query('SELECT 1')
      pgRoundTrip.push(performance.now() - t0)
      t0 = performance.now()
      await mysqlPool.query('SELECT 1')
      mysqlRoundTrip.push(performance.now() - t0)
    }

    const sanity = await sanityCheck(pgPool, mysqlPool, balanceBefore)
    say(`breakdown sanity: ${sanity.text}`)

    // 4. The TM's spans: exported at its graceful stop.
    for (const c of clients.splice(0)) c.close()
    await traced.tm.stop()
    await provider.forceFlush()
    say(`breakdown: ${collector.spans.length} TM spans received in ${collector.posts} export(s); ${memory.getFinishedSpans().length} spans and ${queries.length} queries in this process`)

    // 5. Join by trace id and cut into phases.
    const byTrace = new Map<string, SpanRecord[]>()
    const add = (s: SpanRecord): void => void (byTrace.get(s.traceId) ?? byTrace.set(s.traceId, []).get(s.traceId)!).push(s)
    for (const s of memory.getFinishedSpans()) add(toRecord(s))
    for (const s of queries) add(s)
    for (const s of collector.spans) add(s)
    const requestsByTrace = new Map<string, RequestTiming[]>()
    for (const t of clock.timings) (requestsByTrace.get(t.traceId) ?? requestsByTrace.set(t.traceId, []).get(t.traceId)!).push(t)
    const problems = new Map<string, number>()
    const cut = (traceIds: readonly string[]): { phases: TransferPhases[]; leftOut: number } => {
      const phases: TransferPhases[] = []
      let leftOut = 0
      for (const id of traceIds) {
        try {
          phases.push(phasesOfTransfer(byTrace.get(id) ?? [], requestsByTrace.get(id) ?? []))
        } catch (error) {
          leftOut++
          const why = error instanceof Error ? error.message.replace(/\(sent at [^)]*\)/, '') : String(error)
          problems.set(why, (problems.get(why) ?? 0) + 1)
        }
      }
      return { phases, leftOut }
    }

    const cuts = variants.map((v) => ({ v, ...cut(traces.get(v) ?? []) }))
    const results: VariantBreakdown[] = cuts.map(({ v, phases, leftOut }) => summarize(v, VARIANT_LABEL[v], phases, leftOut + (failed.get(v) ?? 0), untracedMs.get(v)))
    const probe = cut(probeTraces).phases
    const idleProbe = cut(idleProbeTraces).phases
    const dump = process.env.BENCH_BREAKDOWN_DUMP
    if (dump) {
      // Every transfer's phases and TM spans, one JSON line each, for a closer look.
      writeFileSync(dump, `${cuts.flatMap(({ v, phases }) => phases.map((p) => JSON.stringify({ variant: v, ...p }))).join('\n')}\n`)
      say(`breakdown: every transfer's phases written to ${dump}`)
    }
    for (const [why, n] of problems) say(`breakdown: ${n} trace(s) left out: ${why}`)
    const log = parseConfig(applyEnv({}, process.env)).log
    return {
      result: {
        transfersPerVariant: perVariant,
        warmupPerVariant: warmup,
        rounds,
        variants: results,
        floors: {
          tmRoundTrip: statOf(tmRoundTrip),
          tmRoundTripPhases: roundTripPhases(probe),
          tmRoundTripAfterIdle: { total: statOf(idleProbeMs), phases: roundTripPhases(idleProbe) },
          fsyncMs,
          pgRoundTrip: statOf(pgRoundTrip),
          mysqlRoundTrip: statOf(mysqlRoundTrip),
        },
        notes: [
          `the measured rounds took ${roundsSeconds.toFixed(1)} s; the machine was ${machineBusy === undefined ? 'n/a' : `${Math.round(machineBusy * 100)}%`} busy meanwhile (every process on it, this run's and any other)`,
          `TM: file decision log, log.commitDelayMs ${log.commitDelayMs} (log.commitBatchFraction ${log.commitBatchFraction}), pools of 2 sessions per database; the bench's pools 2 per database`,
          `TM spans: ${collector.spans.filter((s) => s.name.startsWith(REQUEST_SPAN_PREFIX)).length} request spans received over OTLP/HTTP JSON`,
        ],
      },
      sanity,
    }
  } finally {
    tracingOn.value = false
    for (const c of clients) c.close()
    for (const s of started) {
      if (s.tm.running) await s.tm.stop().catch(() => undefined)
      await s.tm.destroy().catch(() => undefined)
    }
    await collector.close()
    await provider.shutdown().catch(() => undefined)
    await pgPool.end().catch(() => undefined)
    await mysqlPool.end().catch(() => undefined)
  }
}
