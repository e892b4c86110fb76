// The cluster parts of `npm run bench` (issue #23): the decision log in the
// shared PostgreSQL store (log.store: postgres) against raw 2PC and the file
// store, the store's commits per transaction, two nodes against one, and the
// takeover time (takeover-time.ts).
//
// One store for the throughput part: nodes A and B, one cluster. "One node"
// is a client given A's address only (B idles: it renews its lease and scans
// for takeovers, as a standby would); "two nodes" is a client given both
// (createArbiterClient({ addresses })), which spreads transactions round
// robin. The file-store TM runs beside them, and every variant runs once per
// round in shuffled order, as in the main part, so the ratios compare runs
// minutes apart at most.
//
// The store: by default a throwaway PostgreSQL server of its own (same
// machine and disk, but its own processes and WAL); on the bench's own
// server (--store-server bench) the store would share the branches' WAL
// flushes and connections, which flatters neither side.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { createArbiterClient, type ArbiterClient } from '../client/index.js'
import { totalBalance } from '../examples/bank-transfer/schema.js'
import { HarnessStartError, createDatabase, startPostgres, type TestServer } from '../test/harness/index.js'
import { redact } from '../test/harness/external.js'
import { closedLoop, newHistogram, shuffle, type Histogram } from './closed-loop.js'
import {
  CLUSTER_VARIANTS,
  CLUSTER_VARIANT_INFO,
  perTransaction,
  type ClusterCell,
  type ClusterResult,
  type ClusterVariant,
  type TakeoverResult,
} from './cluster-result.js'
import type { Options } from './options.js'
import { sanityCheck } from './sanity.js'
import { StoreCommits, spanInWindow, type CountedSpan } from './store-commits.js'
import { measureTakeover } from './takeover-time.js'
import { benchTmConfig, startBenchTm, type BenchTm } from './tm-process.js'
import { machineCpu, processTreeCpuSeconds, type TmSample } from './tm-stats.js'
import { failureReason, randomTransfer, runTransfer, type Workload } from './workload.js'

export interface ServerFacts {
  readonly pgMaxConnections: number
  readonly pgMaxPrepared: number
  readonly mysqlMaxConnections: number
}

export interface ClusterPartsInput {
  readonly options: Options
  /** The bench's databases, with the bank's accounts in them. */
  readonly pgUrl: string
  readonly mysqlUrl: string
  /** The bench's PostgreSQL server (superuser URL): the store goes there with --store-server bench. */
  readonly pgServerUrl: string
  readonly facts: ServerFacts
  readonly say: (line: string) => void
}

export interface ClusterParts {
  readonly cluster?: ClusterResult
  readonly takeover?: TakeoverResult
  /** Balances conserved and nothing left prepared after both parts. */
  readonly sane: boolean
}

interface StoreServer {
  /** Superuser URL of the server (store databases are created on it). */
  readonly url: string
  readonly server: TestServer | undefined
  readonly text: string
  readonly separate: boolean
}

async function openStoreServer(choice: string | undefined, benchServerUrl: string, say: (line: string) => void): Promise<StoreServer> {
  const bench = (why: string): StoreServer => ({
    url: benchServerUrl,
    server: undefined,
    text: `a database on the bench's own PostgreSQL server${why} (the store shares its WAL flushes, CPU and connections with the PostgreSQL branches)`,
    separate: false,
  })
  if (choice === 'bench') return bench('')
  if (choice !== undefined) return { url: choice, server: undefined, text: `a database on the PostgreSQL server at ${redact(choice)} (--store-server)`, separate: true }
  try {
    const server = await startPostgres()
    return {
      url: server.url,
      server,
      text: "a throwaway PostgreSQL server of its own on the same machine and disk (its own processes and WAL; fsync=on, synchronous_commit=on), not the bench's: on one server the store would compete with the branches",
      separate: true,
    }
  } catch (error) {
    if (!(error instanceof HarnessStartError) || error.reason !== 'binary-missing') throw error
    say(`no PostgreSQL binaries to start a store server of its own (${error.message}): the store goes on the bench's server`)
    return bench(', for want of PostgreSQL binaries to start one of its own')
  }
}

/**
 * Connections per pool to each branch database: the bench's own pool and
 * three TMs' (file store, A, B) are open at once, within the servers'
 * max_connections (less the store's pools when the store shares the server).
 */
export function clusterPoolSizes(facts: ServerFacts, maxConcurrency: number, storeOnBenchServer: boolean): { pg: number; mysql: number } {
  const pools = 4
  const storeConnections = storeOnBenchServer ? 3 * 4 + 2 : 0
  return {
    pg: Math.max(2, Math.min(maxConcurrency, Math.floor((facts.pgMaxConnections - 10 - storeConnections) / pools), facts.pgMaxPrepared - 4)),
    mysql: Math.max(2, Math.min(maxConcurrency, Math.floor((facts.mysqlMaxConnections - 10) / pools))),
  }
}

/** Runs the cluster and/or takeover parts (whichever options.parts names) on one store server. */
export async function runClusterParts(input: ClusterPartsInput): Promise<ClusterParts> {
  const { options, say } = input
  const store = await openStoreServer(options.storeServer, input.pgServerUrl, say)
  const maxC = Math.max(...(options.parts.has('cluster') ? options.clusterConcurrencies : [8]))
  const sizes = clusterPoolSizes(input.facts, maxC, !store.separate)
  const pgPool = new pg.Pool({ connectionString: input.pgUrl, max: sizes.pg })
  pgPool.on('error', () => undefined)
  const mysqlPool = mysql.createPool({ uri: input.mysqlUrl, connectionLimit: sizes.mysql, resetOnRelease: false })
  try {
    say(`cluster parts: the store is ${store.text}; lease ${options.leaseMs} ms, takeover interval ${options.takeoverIntervalMs} ms; pools ≤ ${sizes.pg} / ${sizes.mysql} per side`)
    const balanceBefore = await totalBalance(pgPool, mysqlPool)
    const base = { ...input, store, sizes, pgPool, mysqlPool }
    const cluster = options.parts.has('cluster') ? await storeComparison(base) : undefined
    const takeover = options.parts.has('takeover')
      ? await measureTakeover({
          pgUrl: input.pgUrl,
          mysqlUrl: input.mysqlUrl,
          pgPool,
          mysqlPool,
          storeServerUrl: store.url,
          storeText: store.text,
          resources: resources(input, sizes),
          accounts: options.accounts,
          leaseMs: options.leaseMs,
          takeoverIntervalMs: options.takeoverIntervalMs,
          rounds: options.takeoverRounds,
          stallMs: cluster ? Math.max(0, ...cluster.cells.map((c) => c.eventLoopLagMaxMs ?? 0)) : undefined,
          say,
        })
      : undefined
    const sanity = await sanityCheck(pgPool, mysqlPool, balanceBefore)
    say(`cluster parts sanity: ${sanity.text}`)
    const withSanity = cluster && { ...cluster, balancesConserved: sanity.balancesConserved, preparedLeft: sanity.preparedLeft }
    return { ...(withSanity && { cluster: withSanity }), ...(takeover && { takeover }), sane: sanity.balancesConserved && sanity.preparedLeft === 0 }
  } finally {
    await pgPool.end().catch(() => undefined)
    await mysqlPool.end().catch(() => undefined)
    await store.server?.destroy().catch(() => undefined)
  }
}

function resources(input: ClusterPartsInput, sizes: { pg: number; mysql: number }) {
  return [
    { name: 'pg', kind: 'postgres' as const, url: input.pgUrl, poolSize: sizes.pg },
    { name: 'mysql', kind: 'mysql' as const, url: input.mysqlUrl, poolSize: sizes.mysql },
  ]
}

interface Acc {
  histogram: Histogram
  committed: number
  seconds: number
  roundTps: number[]
  failed: Record<string, number>
  tmCpu: number
  logWrites: number
  storeCpu: number
  storeSpans: CountedSpan[]
  lagMax: number
  busy: number
  total: number
}

/** Several nodes' samples as one: CPU and log writes summed, the longest stall. */
function combine(samples: readonly TmSample[]): { cpu: number; writes: number; lag: number } {
  return {
    cpu: samples.reduce((n, s) => n + (s.cpuSeconds ?? 0), 0),
    writes: samples.reduce((n, s) => n + (s.fsyncs ?? 0), 0),
    lag: Math.max(0, ...samples.map((s) => s.eventLoopLagMaxSeconds ?? 0)),
  }
}

async function storeComparison(x: ClusterPartsInput & { store: StoreServer; sizes: { pg: number; mysql: number }; pgPool: pg.Pool; mysqlPool: mysql.Pool }): Promise<ClusterResult> {
  const { options, say, store } = x
  const storeDb = await createDatabase(store.url, 'arbiter_store')
  const counter = await StoreCommits.open(store.url, new URL(storeDb).pathname.slice(1))
  const onStore = (nodeId: string) =>
    benchTmConfig(resources(x, x.sizes), { nodeId, log: { store: 'postgres', url: storeDb }, cluster: { leaseMs: options.leaseMs, takeoverIntervalMs: options.takeoverIntervalMs } })
  const tms: BenchTm[] = []
  const clients: ArbiterClient[] = []
  try {
    const prof = options.tmCpuProf ? { cpuProf: options.tmCpuProf } : {}
    const started = await Promise.allSettled([startBenchTm(benchTmConfig(resources(x, x.sizes)), prof), startBenchTm(onStore('bench-a'), prof), startBenchTm(onStore('bench-b'), prof)])
    for (const s of started) if (s.status === 'fulfilled') tms.push(s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    const [fileTm, a, b] = tms as [BenchTm, BenchTm, BenchTm]
    say(`file-store TM at ${fileTm.tm.address}; nodes bench-a at ${a.tm.address}, bench-b at ${b.tm.address}`)
    const client = (addresses: string[]): ArbiterClient => {
      const c = createArbiterClient({ addresses, defaultDeadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } })
      clients.push(c)
      return c
    }
    const served: Record<ClusterVariant, { client?: ArbiterClient; tms: BenchTm[] }> = (() => {
      const file = { client: client([fileTm.tm.address]), tms: [fileTm] }
      const one = { client: client([a.tm.address]), tms: [a] }
      const two = { client: client([a.tm.address, b.tm.address]), tms: [a, b] }
      return { 'raw-2pc': { tms: [] }, 'file-enlist': file, 'file-execute': file, 'pg-enlist': one, 'pg-execute': one, 'pg2-enlist': two, 'pg2-execute': two }
    })()
    const variantsAt = (c: number): ClusterVariant[] => CLUSTER_VARIANTS.filter((v) => CLUSTER_VARIANT_INFO[v].nodes < 2 || options.twoNodeConcurrencies.includes(c))
    const jitLanes = options.jitWarmupSeconds > 0 ? CLUSTER_VARIANTS : []
    const windows = options.clusterConcurrencies.reduce((n, c) => n + variantsAt(c).length * (options.rounds + 1), 0) + jitLanes.length
    let done = 0
    const acc = new Map<string, Acc>()

    const window = async (variant: ClusterVariant, c: number, seconds: number, measured: boolean, label: string): Promise<void> => {
      const info = CLUSTER_VARIANT_INFO[variant]
      const { client: arbiter, tms: serving } = served[variant]
      const w: Workload = { pgPool: x.pgPool, mysqlPool: x.mysqlPool, accountsPerBank: options.accounts, clientFor: () => arbiter! }
      const before = combine(await Promise.all(serving.map((t) => t.stats.sample()))) // also resets the nodes' event-loop maximum
      const storeCpuBefore = store.separate ? processTreeCpuSeconds(store.server?.pid) : undefined
      const machineBefore = machineCpu()
      let committed = 0
      const span = measured && info.store === 'postgres' ? spanInWindow(counter, seconds, () => committed) : undefined
      const histogram = newHistogram()
      const outcome = await closedLoop({
        concurrency: c,
        seconds,
        op: async (worker) => {
          await runTransfer(info.workload, w, worker, randomTransfer(options.accounts))
          committed++
        },
        histogram,
        reason: failureReason,
      })
      const storeCpuAfter = store.separate ? processTreeCpuSeconds(store.server?.pid) : undefined
      const machineAfter = machineCpu()
      const after = combine(await Promise.all(serving.map((t) => t.stats.sample())))
      const counted = await span
      done++
      const tps = outcome.committed / outcome.seconds
      const failed = Object.values(outcome.failures).reduce((n, f) => n + f, 0)
      const commitsText = counted && counted.transfers > 0 ? `, store commits/tx ${(counted.commits / counted.transfers).toFixed(3)}` : ''
      say(`[cluster ${done}/${windows}] c=${c} ${label.padEnd(9)} ${info.label.padEnd(40)} ${Math.round(tps).toString().padStart(5)} tx/s${commitsText}${failed ? `, ${failed} failed` : ''}`)
      if (!measured) return
      const key = `${variant}@${c}`
      const a = acc.get(key) ?? { histogram: newHistogram(), committed: 0, seconds: 0, roundTps: [], failed: {}, tmCpu: 0, logWrites: 0, storeCpu: 0, storeSpans: [], lagMax: 0, busy: 0, total: 0 }
      acc.set(key, a)
      a.histogram.add(histogram)
      a.committed += outcome.committed
      a.seconds += outcome.seconds
      a.roundTps.push(tps)
      for (const [r, n] of Object.entries(outcome.failures)) a.failed[r] = (a.failed[r] ?? 0) + n
      a.tmCpu += after.cpu - before.cpu
      a.logWrites += after.writes - before.writes
      a.lagMax = Math.max(a.lagMax, after.lag)
      if (storeCpuBefore !== undefined && storeCpuAfter !== undefined) a.storeCpu += storeCpuAfter - storeCpuBefore
      if (counted) a.storeSpans.push(counted)
      if (machineBefore && machineAfter) {
        a.busy += machineAfter.busy - machineBefore.busy
        a.total += machineAfter.total - machineBefore.total
      }
    }

    // Every variant once under load first, two nodes included, so that node B (which serves only the two-node
    // variants) is measured with its hot code compiled as node A is (options.ts, jitWarmupSeconds).
    const jitC = Math.max(...options.clusterConcurrencies)
    for (const v of jitLanes) await window(v, jitC, options.jitWarmupSeconds, false, 'jit')
    for (const c of options.clusterConcurrencies) {
      for (const v of variantsAt(c)) await window(v, c, options.warmupSeconds, false, 'warm-up')
      for (let r = 1; r <= options.rounds; r++) for (const v of shuffle(variantsAt(c))) await window(v, c, options.roundSeconds, true, `round ${r}`)
    }

    const cells: ClusterCell[] = []
    for (const c of options.clusterConcurrencies) {
      for (const v of variantsAt(c)) {
        const a = acc.get(`${v}@${c}`)
        if (!a) continue
        const info = CLUSTER_VARIANT_INFO[v]
        const perTx = (amount: number, scale = 1): number | null => (info.nodes > 0 && a.committed > 0 ? (amount * scale) / a.committed : null)
        const commits = info.store === 'postgres' ? perTransaction(a.storeSpans) : undefined
        cells.push({
          variant: v,
          concurrency: c,
          committed: a.committed,
          seconds: a.seconds,
          tps: a.seconds > 0 ? a.committed / a.seconds : 0,
          roundTps: a.roundTps,
          p50Ms: a.histogram.getValueAtPercentile(50) / 1000,
          p99Ms: a.histogram.getValueAtPercentile(99) / 1000,
          failed: a.failed,
          tmCpuMsPerTx: perTx(a.tmCpu, 1000),
          storeCommitsPerTx: commits?.value ?? null,
          storeCommitsPerTxRounds: info.store === 'postgres' ? a.storeSpans.filter((s) => s.transfers > 0).map((s) => s.commits / s.transfers) : [],
          logWritesPerTx: perTx(a.logWrites),
          storeCpuMsPerTx: info.store === 'postgres' && store.server && store.separate ? perTx(a.storeCpu, 1000) : null,
          eventLoopLagMaxMs: info.nodes > 0 ? a.lagMax * 1000 : null,
          machineBusy: a.total > 0 ? a.busy / a.total : null,
        })
      }
    }
    return {
      store: store.text,
      separateStore: store.separate,
      leaseMs: options.leaseMs,
      takeoverIntervalMs: options.takeoverIntervalMs,
      concurrencies: options.clusterConcurrencies,
      twoNodeConcurrencies: options.twoNodeConcurrencies.filter((c) => options.clusterConcurrencies.includes(c)),
      rounds: options.rounds,
      roundSeconds: options.roundSeconds,
      warmupSeconds: options.warmupSeconds,
      jitWarmupSeconds: options.jitWarmupSeconds,
      pgPool: x.sizes.pg,
      mysqlPool: x.sizes.mysql,
      cells,
      balancesConserved: true, // set by the caller once the parts are over
      preparedLeft: 0,
    }
  } catch (error) {
    for (const t of tms) process.stderr.write(`${t.tm.config.nodeId} log tail:\n${t.tm.logs().slice(-2000)}\n`)
    throw error
  } finally {
    for (const c of clients) c.close()
    await counter.close()
    await Promise.all(tms.map(async (t) => {
      await t.tm.stop()
      await t.tm.destroy()
    }))
  }
}
