// A TM for the benchmark: its own process (test/helpers/test-arbiter.ts's
// ArbiterProcess, so its CPU is measured alone), production-like recovery
// timing, metrics on, and the stats the bench reads from it. Every part of
// the run starts its TMs and cluster nodes here.
import { mkdirSync, rmSync } from 'node:fs'
import type { ArbiterConfigInput } from '../server/config.js'
import { ArbiterProcess, testConfig, type TestResources } from '../test/helpers/test-arbiter.js'
import { TmStats, metricsAddress } from './tm-stats.js'

export interface BenchTm {
  readonly tm: ArbiterProcess
  readonly stats: TmStats
}

/** The bench's TM config: the given resources and, e.g., a node id, a postgres store and its lease. */
export function benchTmConfig(resources: TestResources, overrides: Partial<ArbiterConfigInput> = {}): ArbiterConfigInput {
  return testConfig(resources, {
    transactions: { defaultTimeoutMs: 30_000, maxTimeoutMs: 120_000, localBranchGraceMs: 5_000 },
    recovery: { intervalMs: 10_000, graceMs: 30_000 },
    metrics: { listen: '127.0.0.1:0' },
    ...overrides,
  })
}

export interface StartOptions {
  /** Environment of the TM process (e.g. ARBITER_FAILPOINTS). */
  readonly env?: Record<string, string>
  /** Write a V8 CPU profile of the TM into this folder (at its graceful exit). */
  readonly cpuProf?: string
  /**
   * Run server/main.ts of this checkout instead, from it (a baseline
   * worktree: baseline-worktree.ts), the same way (node --import tsx).
   */
  readonly root?: string
}

const shQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`

/**
 * The command ArbiterProcess runs the TM under (none: [] ): a shell that adds
 * --cpu-prof (not allowed in NODE_OPTIONS) and, for another checkout, swaps
 * this checkout's server/main.ts in ArbiterProcess's command line
 * (node --import tsx <this>/server/main.ts serve --config FILE) for that
 * checkout's, and runs it from there (tsx and the modules resolve there).
 */
export function tmWrapper(o: Pick<StartOptions, 'cpuProf' | 'root'>): string[] {
  const flags = o.cpuProf ? ` --cpu-prof --cpu-prof-dir=${shQuote(o.cpuProf)}` : ''
  if (o.root === undefined) return flags ? ['/bin/sh', '-c', `exec "$0"${flags} "$@"`] : []
  const root = shQuote(o.root)
  const script =
    // $0 is node; drop everything up to and including the script, keep its arguments.
    `node="$0"; for a; do shift; case "$a" in */server/main.ts) break ;; esac; done; ` +
    `cd ${root} && exec "$node"${flags} --import tsx ${shQuote(`${o.root}/server/main.ts`)} "$@"`
  return ['/bin/sh', '-c', script]
}

/** Starts a TM process; resolves once it listens, with its stats source. */
export async function startBenchTm(config: ArbiterConfigInput, o: StartOptions = {}): Promise<BenchTm> {
  const wrapper = tmWrapper(o)
  const tm = await ArbiterProcess.start(config, o.env ?? {}, wrapper)
  if (wrapper.length) {
    await tm.stop() // the first start is never wrapped
    if (o.root !== undefined) {
      // That start was this checkout's TM: the other one starts on an empty data folder, not on a log another version wrote.
      rmSync(config.dataDir!, { recursive: true, force: true })
      mkdirSync(config.dataDir!, { recursive: true })
    }
    await tm.spawn()
  }
  const metrics = metricsAddress(tm.logs())
  return { tm, stats: new TmStats(tm.pid, metrics ? `http://${metrics}/metrics` : undefined) }
}
