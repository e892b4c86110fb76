// The main part of `npm run bench`: the five ways of one transfer
// (workload.ts) against one TM on the file store, closed loop, a warm-up per
// concurrency, then rounds in which every variant runs in shuffled order.
import type pg from 'pg'
import type { Pool as MysqlPool } from 'mysql2/promise'
import { createArbiterClient, type ArbiterClient } from '../client/index.js'
import { closedLoop, newHistogram, shuffle, type Histogram } from './closed-loop.js'
import type { Options } from './options.js'
import { TM_VARIANTS, VARIANT_LABEL, type Cell, type Variant } from './result.js'
import { sanityCheck, type Sanity } from './sanity.js'
import { benchTmConfig, startBenchTm, type BenchTm } from './tm-process.js'
import { machineCpu } from './tm-stats.js'
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
  readonly say: (line: string) => void
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
}

/** Runs the main part; the TM it starts is stopped (gracefully, so --tm-cpu-prof writes its profile) before it returns. */
export async function runMainPhase(input: MainPhaseInput): Promise<MainPhase> {
  const { options, say } = input
  const maxC = Math.max(...options.concurrencies)
  const clients: ArbiterClient[] = []
  let started: BenchTm | undefined
  try {
    const config = benchTmConfig([
      { name: 'pg', kind: 'postgres', url: input.pgUrl, poolSize: input.pgPoolMax },
      { name: 'mysql', kind: 'mysql', url: input.mysqlUrl, poolSize: input.mysqlPoolMax },
    ])
    started = await startBenchTm(config, options.tmCpuProf ? { cpuProf: options.tmCpuProf } : {})
    const { tm, stats } = started
    say(`TM pid ${tm.pid} at ${tm.address}; TM stats from ${stats.source}`)

    const channels = Math.max(1, Math.min(options.grpcChannels, maxC))
    for (let i = 0; i < channels; i++) {
      clients.push(createArbiterClient({ address: tm.address, defaultDeadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }))
    }
    const workload = (concurrency: number): Workload => ({
      pgPool: input.pgPool,
      mysqlPool: input.mysqlPool,
      accountsPerBank: options.accounts,
      clientFor: (worker) => clients[worker % Math.min(channels, concurrency)]!,
    })

    const acc = new Map<string, Accumulator>()
    const key = (v: Variant, c: number): string => `${v}@${c}`
    const windows = options.concurrencies.length * options.variants.length * (options.rounds + 1)
    let windowsDone = 0
    const window = async (variant: Variant, c: number, seconds: number, measured: boolean, label: string): Promise<void> => {
      const a = acc.get(key(variant, c)) ?? { histogram: newHistogram(), committed: 0, seconds: 0, failures: {}, cpuSeconds: 0, fsyncs: 0, benchCpuSeconds: 0, machineBusy: 0, machineTotal: 0 }
      acc.set(key(variant, c), a)
      const w = workload(c)
      const before = measured ? await stats.sample() : undefined
      const benchBefore = process.cpuUsage()
      const machineBefore = machineCpu()
      const outcome = await closedLoop({
        concurrency: c,
        seconds,
        op: (worker) => runTransfer(variant, w, worker, randomTransfer(options.accounts)),
        ...(measured && { histogram: a.histogram }),
        reason: failureReason,
      })
      const benchCpu = process.cpuUsage(benchBefore)
      const machineAfter = machineCpu()
      windowsDone++
      const failed = Object.values(outcome.failures).reduce((n, x) => n + x, 0)
      say(
        `[${windowsDone}/${windows}] c=${c} ${label.padEnd(9)} ${VARIANT_LABEL[variant].padEnd(24)} ${Math.round(outcome.committed / outcome.seconds)
          .toString()
          .padStart(5)} tx/s${failed ? `, ${failed} failed` : ''}`,
      )
      if (!measured || !before) return
      const after = await stats.sample()
      a.benchCpuSeconds += (benchCpu.user + benchCpu.system) / 1e6
      if (machineBefore && machineAfter) {
        a.machineBusy += machineAfter.busy - machineBefore.busy
        a.machineTotal += machineAfter.total - machineBefore.total
      }
      a.committed += outcome.committed
      a.seconds += outcome.seconds
      for (const [r, n] of Object.entries(outcome.failures)) a.failures[r] = (a.failures[r] ?? 0) + n
      a.cpuSeconds = before.cpuSeconds !== undefined && after.cpuSeconds !== undefined && a.cpuSeconds !== undefined ? a.cpuSeconds + after.cpuSeconds - before.cpuSeconds : undefined
      a.fsyncs = before.fsyncs !== undefined && after.fsyncs !== undefined && a.fsyncs !== undefined ? a.fsyncs + after.fsyncs - before.fsyncs : undefined
    }

    for (const c of options.concurrencies) {
      for (const v of options.variants) await window(v, c, options.warmupSeconds, false, 'warm-up')
      for (let r = 1; r <= options.rounds; r++) {
        for (const v of shuffle([...options.variants])) await window(v, c, options.roundSeconds, true, `round ${r}`)
      }
    }

    // Sanity: money conserved, nothing left prepared (the TM finishes in the background).
    const sanity = await sanityCheck(input.pgPool, input.mysqlPool, input.balanceBefore)
    say(`sanity: ${sanity.text}`)

    const cells: Cell[] = []
    for (const c of options.concurrencies) {
      for (const v of options.variants) {
        const a = acc.get(key(v, c))
        if (!a) continue
        const tmVariant = TM_VARIANTS.includes(v)
        const q = (p: number): number => a.histogram.getValueAtPercentile(p) / 1000
        cells.push({
          variant: v,
          concurrency: c,
          committed: a.committed,
          aborted: a.failures,
          seconds: a.seconds,
          tps: a.seconds > 0 ? a.committed / a.seconds : 0,
          p50Ms: q(50),
          p95Ms: q(95),
          p99Ms: q(99),
          p999Ms: q(99.9),
          fsyncsPerCommit: tmVariant && a.fsyncs !== undefined && stats.hasFsyncs && a.committed > 0 ? a.fsyncs / a.committed : null,
          tmCpuMsPerTx: tmVariant && a.cpuSeconds !== undefined && a.committed > 0 ? (a.cpuSeconds * 1000) / a.committed : null,
          ...(a.committed > 0 && { benchCpuMsPerTx: (a.benchCpuSeconds * 1000) / a.committed }),
          ...(a.machineTotal > 0 && { machineBusy: a.machineBusy / a.machineTotal }),
        })
      }
    }
    return { cells, tmStatsSource: stats.source, grpcChannels: channels, sanity }
  } catch (error) {
    if (started) process.stderr.write(`TM log tail:\n${started.tm.logs().slice(-3000)}\n`)
    throw error
  } finally {
    for (const c of clients) c.close()
    if (started) {
      await started.tm.stop() // SIGTERM: a graceful exit, so --cpu-prof writes its profile
      await started.tm.destroy()
    }
  }
}
