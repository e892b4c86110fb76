// The main part of `npm run bench`: the five ways of one transfer
// (workload.ts) against one TM on the file store, closed loop, a warm-up per
// concurrency, then rounds in which every variant runs in shuffled order.
// With a baseline (--baseline-rev), a second TM runs that revision's code
// (baseline-worktree.ts), and each TM variant runs on it too, in the same
// rounds. Each round's figures are kept, for the spread of every ratio.
import type pg from 'pg'
import type { Pool as MysqlPool } from 'mysql2/promise'
import { createArbiterClient, type ArbiterClient } from '../client/index.js'
import type { BaselineWorktree } from './baseline-worktree.js'
import { closedLoop, newHistogram, shuffle, type Histogram } from './closed-loop.js'
import type { Options } from './options.js'
import { TM_VARIANTS, VARIANT_LABEL, type Cell, type CellRound, type Variant } from './result.js'
import { sanityCheck, type Sanity } from './sanity.js'
import { benchTmConfig, startBenchTm, type BenchTm } from './tm-process.js'
import { machineCpu, type TmSample } from './tm-stats.js'
import { failureReason, randomTransfer, runTransfer, type Workload } from './workload.js'

export interface MainPhaseInput {
  readonly options: Options
  readonly pgUrl: string
  readonly mysqlUrl: string
  /** The bench's own pools (the application's connections). */
  readonly pgPool: pg.Pool
  readonly mysqlPool: MysqlPool
  /** The TM's pool sizes (the same as the bench's). */
  readonly pgPoolMax: number
  readonly mysqlPoolMax: number
  /** The total balance before the part (checked again after it, with the TM still up to finish its branches). */
  readonly balanceBefore: number
  /** The baseline TM's code, when --baseline-rev asked for one. */
  readonly baseline?: BaselineWorktree
  readonly say: (line: string) => void
}

/** A variant as the main part runs it: its workload, on this checkout's TM or the baseline's. */
interface Lane {
  readonly variant: Variant
  readonly baseline: boolean
}

export interface MainPhase {
  readonly cells: Cell[]
  readonly tmStatsSource: string
  readonly grpcChannels: number
  readonly sanity: Sanity
}

interface Accumulator {
  histogram: Histogram
  committed: number
  seconds: number
  failures: Record<string, number>
  cpuSeconds: number | undefined
  fsyncs: number | undefined
  benchCpuSeconds: number
  machineBusy: number
  machineTotal: number
  rounds: CellRound[]
}

const perTx = (seconds: number | undefined, committed: number): number | null => (seconds !== undefined && committed > 0 ? (seconds * 1000) / committed : null)
const delta = (before: number | undefined, after: number | undefined): number | undefined => (before !== undefined && after !== undefined ? after - before : undefined)

/** One measured window's figures (a round of one lane). */
function roundFigures(lane: Lane, committed: number, seconds: number, histogram: Histogram, before: TmSample, after: TmSample, benchCpuSeconds: number, hasFsyncs: boolean): CellRound {
  const tmLane = TM_VARIANTS.includes(lane.variant)
  const fsyncs = delta(before.fsyncs, after.fsyncs)
  return {
    tps: seconds > 0 ? committed / seconds : 0,
    p50Ms: histogram.getValueAtPercentile(50) / 1000,
    p99Ms: histogram.getValueAtPercentile(99) / 1000,
    fsyncsPerCommit: tmLane && hasFsyncs && fsyncs !== undefined && committed > 0 ? fsyncs / committed : null,
    tmCpuMsPerTx: tmLane ? perTx(delta(before.cpuSeconds, after.cpuSeconds), committed) : null,
    benchCpuMsPerTx: perTx(benchCpuSeconds, committed),
  }
}

/** The lanes of a round: every variant on this checkout's TM, and with a baseline every TM variant on it too. */
export function lanesOf(variants: readonly Variant[], baseline: boolean): Lane[] {
  return [...variants.map((variant) => ({ variant, baseline: false })), ...(baseline ? variants.filter((v) => TM_VARIANTS.includes(v)).map((variant) => ({ variant, baseline: true })) : [])]
}

/** Runs the main part; the TMs it starts are stopped (gracefully, so --tm-cpu-prof writes its profile) before it returns. */
export async function runMainPhase(input: MainPhaseInput): Promise<MainPhase> {
  const { options, say, baseline } = input
  const maxC = Math.max(...options.concurrencies)
  const clients: ArbiterClient[] = []
  const tms: BenchTm[] = []
  try {
    const config = (): ReturnType<typeof benchTmConfig> =>
      benchTmConfig([
        { name: 'pg', kind: 'postgres', url: input.pgUrl, poolSize: input.pgPoolMax },
        { name: 'mysql', kind: 'mysql', url: input.mysqlUrl, poolSize: input.mysqlPoolMax },
      ])
    const started = await startBenchTm(config(), options.tmCpuProf ? { cpuProf: options.tmCpuProf } : {})
    tms.push(started)
    say(`TM pid ${started.tm.pid} at ${started.tm.address}; TM stats from ${started.stats.source}`)
    // The baseline TM: the same config (its own node id and data folder), that revision's code.
    const base = baseline ? await startBenchTm(config(), { root: baseline.dir }) : undefined
    if (base && baseline) {
      tms.push(base)
      say(`baseline TM (${baseline.rev} = ${baseline.commit.slice(0, 7)}, from ${baseline.dir}) pid ${base.tm.pid} at ${base.tm.address}`)
    }

    const channels = Math.max(1, Math.min(options.grpcChannels, maxC))
    const clientsOf = (tm: BenchTm): ArbiterClient[] => {
      const mine = Array.from({ length: channels }, () =>
        createArbiterClient({ address: tm.tm.address, defaultDeadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
      )
      clients.push(...mine)
      return mine
    }
    const currentClients = clientsOf(started)
    const baseClients = base ? clientsOf(base) : []
    /** The TM a lane runs on. */
    const tmOf = (lane: Lane): BenchTm => (lane.baseline && base ? base : started)
    const workload = (lane: Lane, concurrency: number): Workload => {
      const mine = lane.baseline ? baseClients : currentClients
      return {
        pgPool: input.pgPool,
        mysqlPool: input.mysqlPool,
        accountsPerBank: options.accounts,
        clientFor: (worker) => mine[worker % Math.min(channels, concurrency)]!,
      }
    }

    const lanes = lanesOf(options.variants, base !== undefined)
    const label = (lane: Lane): string => `${VARIANT_LABEL[lane.variant]}${lane.baseline ? ` @ ${baseline?.rev}` : ''}`
    const acc = new Map<string, Accumulator>()
    const key = (lane: Lane, c: number): string => `${lane.variant}${lane.baseline ? '@baseline' : ''}@${c}`
    const jitWarmup = options.jitWarmupSeconds > 0
    const windows = options.concurrencies.length * lanes.length * (options.rounds + 1) + (jitWarmup ? lanes.length : 0)
    let windowsDone = 0
    const window = async (lane: Lane, c: number, seconds: number, measured: boolean, what: string): Promise<void> => {
      const a = acc.get(key(lane, c)) ?? {
        histogram: newHistogram(),
        committed: 0,
        seconds: 0,
        failures: {},
        cpuSeconds: 0,
        fsyncs: 0,
        benchCpuSeconds: 0,
        machineBusy: 0,
        machineTotal: 0,
        rounds: [],
      }
      acc.set(key(lane, c), a)
      const w = workload(lane, c)
      const { stats } = tmOf(lane)
      const histogram = measured ? newHistogram() : undefined
      const before = measured ? await stats.sample() : undefined
      const benchBefore = process.cpuUsage()
      const machineBefore = machineCpu()
      const outcome = await closedLoop({
        concurrency: c,
        seconds,
        op: (worker) => runTransfer(lane.variant, w, worker, randomTransfer(options.accounts)),
        ...(histogram && { histogram }),
        reason: failureReason,
      })
      const benchCpu = process.cpuUsage(benchBefore)
      const machineAfter = machineCpu()
      windowsDone++
      const failed = Object.values(outcome.failures).reduce((n, x) => n + x, 0)
      say(
        `[${windowsDone}/${windows}] c=${c} ${what.padEnd(9)} ${label(lane).padEnd(base ? 36 : 24)} ${Math.round(outcome.committed / outcome.seconds)
          .toString()
          .padStart(5)} tx/s${failed ? `, ${failed} failed` : ''}`,
      )
      if (!measured || !before || !histogram) return
      const after = await stats.sample()
      const benchCpuSeconds = (benchCpu.user + benchCpu.system) / 1e6
      a.benchCpuSeconds += benchCpuSeconds
      if (machineBefore && machineAfter) {
        a.machineBusy += machineAfter.busy - machineBefore.busy
        a.machineTotal += machineAfter.total - machineBefore.total
      }
      a.histogram.add(histogram)
      a.rounds.push(roundFigures(lane, outcome.committed, outcome.seconds, histogram, before, after, benchCpuSeconds, stats.hasFsyncs))
      a.committed += outcome.committed
      a.seconds += outcome.seconds
      for (const [r, n] of Object.entries(outcome.failures)) a.failures[r] = (a.failures[r] ?? 0) + n
      a.cpuSeconds = a.cpuSeconds !== undefined ? sum(a.cpuSeconds, delta(before.cpuSeconds, after.cpuSeconds)) : undefined
      a.fsyncs = a.fsyncs !== undefined ? sum(a.fsyncs, delta(before.fsyncs, after.fsyncs)) : undefined
    }

    // Every lane once under load first, at the highest concurrency (most calls per second): each process's hot code compiled (options.ts).
    if (jitWarmup) for (const lane of lanes) await window(lane, maxC, options.jitWarmupSeconds, false, 'jit')
    for (const c of options.concurrencies) {
      for (const lane of lanes) await window(lane, c, options.warmupSeconds, false, 'warm-up')
      for (let r = 1; r <= options.rounds; r++) {
        for (const lane of shuffle([...lanes])) await window(lane, c, options.roundSeconds, true, `round ${r}`)
      }
    }

    // Sanity: money conserved, nothing left prepared (the TMs finish in the background).
    const sanity = await sanityCheck(input.pgPool, input.mysqlPool, input.balanceBefore)
    say(`sanity: ${sanity.text}`)

    const cells: Cell[] = []
    for (const c of options.concurrencies) {
      for (const lane of lanes) {
        const a = acc.get(key(lane, c))
        if (!a) continue
        const v = lane.variant
        const tmVariant = TM_VARIANTS.includes(v)
        const { stats } = tmOf(lane)
        const q = (p: number): number => a.histogram.getValueAtPercentile(p) / 1000
        cells.push({
          variant: v,
          concurrency: c,
          ...(lane.baseline && { tm: 'baseline' as const }),
          committed: a.committed,
          aborted: a.failures,
          seconds: a.seconds,
          tps: a.seconds > 0 ? a.committed / a.seconds : 0,
          p50Ms: q(50),
          p95Ms: q(95),
          p99Ms: q(99),
          p999Ms: q(99.9),
          fsyncsPerCommit: tmVariant && a.fsyncs !== undefined && stats.hasFsyncs && a.committed > 0 ? a.fsyncs / a.committed : null,
          tmCpuMsPerTx: tmVariant ? perTx(a.cpuSeconds, a.committed) : null,
          ...(a.committed > 0 && { benchCpuMsPerTx: (a.benchCpuSeconds * 1000) / a.committed }),
          ...(a.machineTotal > 0 && { machineBusy: a.machineBusy / a.machineTotal }),
          rounds: a.rounds,
        })
      }
    }
    return { cells, tmStatsSource: started.stats.source, grpcChannels: channels, sanity }
  } catch (error) {
    for (const t of tms) process.stderr.write(`TM (pid ${t.tm.pid}) log tail:\n${t.tm.logs().slice(-3000)}\n`)
    throw error
  } finally {
    for (const c of clients) c.close()
    for (const t of tms) {
      await t.tm.stop() // SIGTERM: a graceful exit, so --cpu-prof writes its profile
      await t.tm.destroy()
    }
  }
}

const sum = (a: number, b: number | undefined): number | undefined => (b === undefined ? undefined : a + b)
