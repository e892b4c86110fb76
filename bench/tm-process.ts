// A TM for the benchmark: its own process (test/helpers/test-arbiter.ts's
// ArbiterProcess, so its CPU is measured alone), production-like recovery
// timing, metrics on, and the stats the bench reads from it. Every part of
// the run starts its TMs and cluster nodes here.
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
}

/** Starts a TM process; resolves once it listens, with its stats source. */
export async function startBenchTm(config: ArbiterConfigInput, o: StartOptions = {}): Promise<BenchTm> {
  // --cpu-prof is not allowed in NODE_OPTIONS: run node through a shell that adds it.
  const wrapper = o.cpuProf ? ['/bin/sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir='${o.cpuProf}' "$@"`] : []
  const tm = await ArbiterProcess.start(config, o.env ?? {}, wrapper)
  if (o.cpuProf) {
    await tm.stop() // the first start is never wrapped
    await tm.spawn()
  }
  const metrics = metricsAddress(tm.logs())
  return { tm, stats: new TmStats(tm.pid, metrics ? `http://${metrics}/metrics` : undefined) }
}
