// The benchmark's command line (and its environment twins: BENCH_CONCURRENCY,
// BENCH_ROUNDS, …), and which parts of the run it selects. Pure but for
// reading process.env and printing --help.
import { parseArgs } from 'node:util'
import { TM_VARIANTS, VARIANTS, type Variant } from './result.js'

/**
 * The run's parts: the decision-log micro-benchmark, the five ways of one
 * transfer (file store), the postgres store and two nodes against raw 2PC and
 * the file store, the time a node's takeover takes, and the per-phase
 * breakdown at concurrency 1 (traced; breakdown.ts).
 */
export const PARTS = ['log', 'main', 'cluster', 'takeover', 'breakdown'] as const
export type Part = (typeof PARTS)[number]
/** What runs unless --only says otherwise: the breakdown only when asked for (--breakdown, or --only breakdown). */
export const DEFAULT_PARTS: readonly Part[] = ['log', 'main', 'cluster', 'takeover']

export interface Options {
  readonly quick: boolean
  readonly parts: ReadonlySet<Part>
  readonly concurrencies: number[]
  readonly rounds: number
  readonly roundSeconds: number
  readonly warmupSeconds: number
  /**
   * Seconds of load each lane runs once, before the first concurrency's
   * warm-up, so that every TM process (and the bench's own) is measured with
   * its hot code compiled: V8 still spends about a fifth of a fresh TM's CPU
   * compiling 10 s into full load, and next to nothing after 20 s. 0: none.
   */
  readonly jitWarmupSeconds: number
  readonly accounts: number
  readonly variants: Variant[]
  readonly logWriters: number[]
  readonly logSeconds: number
  readonly grpcChannels: number
  readonly tmCpuProf: string | undefined
  /** The cluster part: concurrencies of the store comparison, and those that also run two nodes. */
  readonly clusterConcurrencies: number[]
  readonly twoNodeConcurrencies: number[]
  /** cluster.leaseMs and cluster.takeoverIntervalMs of every node on the postgres store. */
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  readonly takeoverRounds: number
  /** Where the store lives: undefined = a throwaway PostgreSQL server of its own; 'bench' = the bench's server; else a server URL. */
  readonly storeServer: string | undefined
  /** The breakdown part: traced transfers per variant (and as many untraced). */
  readonly breakdownTransfers: number
  /**
   * A git revision whose TM (server/main.ts from a detached worktree of it)
   * serves a second copy of each TM variant in the main part, in the same
   * rounds (issue #25); undefined: none.
   */
  readonly baselineRev: string | undefined
  readonly out: string
}

/**
 * --only and --skip (comma lists of parts) → the parts to run, in PARTS
 * order. Neither: the default ones (DEFAULT_PARTS), plus the breakdown when
 * `breakdown` (--breakdown); with a baseline (--baseline-rev), the main part
 * alone (the comparison is of it). An unknown part is an error naming the known ones.
 */
export function selectParts(only: string | undefined, skip: string | undefined, breakdown = false, baseline = false): Part[] {
  const parse = (text: string | undefined): Part[] | undefined => {
    if (text === undefined) return undefined
    const names = text.split(',').map((s) => s.trim()).filter(Boolean)
    for (const n of names) if (!(PARTS as readonly string[]).includes(n)) throw new Error(`unknown part ${n} (known: ${PARTS.join(', ')})`)
    return names as Part[]
  }
  const chosen = parse(only) ?? (baseline ? ['main'] : [...DEFAULT_PARTS, ...(breakdown ? (['breakdown'] as const) : [])])
  const skipped = parse(skip) ?? []
  const parts = PARTS.filter((p) => chosen.includes(p) && !skipped.includes(p))
  if (parts.length === 0) throw new Error('--only/--skip left no part to run')
  return parts
}

/**
 * The results' base name: latest (or quick), with the parts run when not all
 * the default ones (the breakdown added to them or not), and -baseline with a
 * baseline TM (latest-baseline when the main part ran alone).
 */
export function outName(quick: boolean, parts: readonly Part[], baseline = false): string {
  const base = quick ? 'quick' : 'latest'
  const all = DEFAULT_PARTS.every((p) => parts.includes(p))
  const named = all || (baseline && parts.length === 1 && parts[0] === 'main') ? base : `${base}-${parts.join('-')}`
  return baseline ? `${named}-baseline` : named
}

const HELP =
  'npm run bench -- [--quick] [--breakdown] [--baseline-rev REV] [--only log,main,cluster,takeover,breakdown] [--skip …]\n' +
  '  main:     [--concurrency 1,8,32,128] [--rounds 3] [--round-seconds 4] [--warmup-seconds 1.5] [--jit-warmup-seconds 12] [--accounts 10000]\n' +
  `            [--variants ${VARIANTS.join(',')}] [--grpc-channels 1] [--tm-cpu-prof DIR]\n` +
  '  log:      [--log-writers 1,4,16,64,256] [--log-seconds 1.5]\n' +
  '  cluster:  [--cluster-concurrency 32,128] [--two-node-concurrency 32] (rounds, durations as above)\n' +
  '  takeover: [--takeover-rounds 3]\n' +
  '  both:     [--lease-ms 5000] [--takeover-interval-ms 500] [--store-server own|bench|postgres://…]\n' +
  '  breakdown (only when asked for): [--breakdown-transfers 400] (--rounds, --variants, --accounts as above)\n' +
  '  baseline: [--baseline-rev REV]  each TM variant also on the TM of git revision REV (e.g. e2b9fca^), run from a\n' +
  '            detached worktree of it, in the same rounds; the main part alone unless --only says otherwise; writes latest-baseline.*\n' +
  '  [--out latest]\n' +
  'Environment twins: BENCH_QUICK=1, BENCH_BREAKDOWN=1, BENCH_ONLY, BENCH_SKIP, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_ROUND_SECONDS, BENCH_STORE_SERVER, BENCH_BASELINE_REV, ...\n'

export function parseOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      only: { type: 'string' },
      skip: { type: 'string' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'round-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      'jit-warmup-seconds': { type: 'string' },
      accounts: { type: 'string' },
      variants: { type: 'string' },
      'log-writers': { type: 'string' },
      'log-seconds': { type: 'string' },
      'grpc-channels': { type: 'string' },
      'tm-cpu-prof': { type: 'string' },
      'cluster-concurrency': { type: 'string' },
      'two-node-concurrency': { type: 'string' },
      'lease-ms': { type: 'string' },
      'takeover-interval-ms': { type: 'string' },
      'takeover-rounds': { type: 'string' },
      'store-server': { type: 'string' },
      breakdown: { type: 'boolean' },
      'breakdown-transfers': { type: 'string' },
      'baseline-rev': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(HELP)
    process.exit(0)
  }
  const pick = (flag: string | undefined, name: string): string | undefined => flag ?? (env[name]?.trim() || undefined)
  const list = (text: string | undefined, fallback: number[]): number[] => {
    if (text === undefined) return fallback
    const numbers = text.split(',').map((s) => Number(s.trim()))
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`not a list of positive integers: ${text}`)
    return numbers
  }
  /** A positive number; with `zero`, 0 too (a step that can be turned off). */
  const number = (text: string | undefined, fallback: number, zero = false): number => {
    if (text === undefined) return fallback
    const n = Number(text)
    if (!Number.isFinite(n) || n < 0 || (n === 0 && !zero)) throw new Error(zero ? `not a number of seconds (0 or more): ${text}` : `not a positive number: ${text}`)
    return n
  }
  const quick = values.quick === true || env.BENCH_QUICK === '1'
  const variantsText = pick(values.variants, 'BENCH_VARIANTS')
  const variants = variantsText ? variantsText.split(',').map((v) => v.trim()) : [...VARIANTS]
  for (const v of variants) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v} (known: ${VARIANTS.join(', ')})`)
  const baselineRev = pick(values['baseline-rev'], 'BENCH_BASELINE_REV')
  const parts = selectParts(pick(values.only, 'BENCH_ONLY'), pick(values.skip, 'BENCH_SKIP'), values.breakdown === true || env.BENCH_BREAKDOWN === '1', baselineRev !== undefined)
  if (baselineRev !== undefined) {
    if (!parts.includes('main')) throw new Error('--baseline-rev compares the main part: --only/--skip left it out')
    if (!variants.some((v) => (TM_VARIANTS as readonly string[]).includes(v))) throw new Error(`--baseline-rev compares TM variants: --variants has none of ${TM_VARIANTS.join(', ')}`)
  }
  const storeServer = pick(values['store-server'], 'BENCH_STORE_SERVER')
  return {
    quick,
    parts: new Set(parts),
    concurrencies: list(pick(values.concurrency, 'BENCH_CONCURRENCY'), quick ? [1, 8] : [1, 8, 32, 128]),
    rounds: Math.round(number(pick(values.rounds, 'BENCH_ROUNDS'), quick ? 1 : 3)),
    roundSeconds: number(pick(values['round-seconds'], 'BENCH_ROUND_SECONDS'), quick ? 1.5 : 4),
    warmupSeconds: number(pick(values['warmup-seconds'], 'BENCH_WARMUP_SECONDS'), quick ? 0.5 : 1.5),
    jitWarmupSeconds: number(pick(values['jit-warmup-seconds'], 'BENCH_JIT_WARMUP_SECONDS'), quick ? 2 : 12, true),
    accounts: Math.round(number(pick(values.accounts, 'BENCH_ACCOUNTS'), 10_000)),
    variants: variants as Variant[],
    logWriters: list(pick(values['log-writers'], 'BENCH_LOG_WRITERS'), quick ? [1, 16] : [1, 4, 16, 64, 256]),
    logSeconds: number(pick(values['log-seconds'], 'BENCH_LOG_SECONDS'), quick ? 0.5 : 1.5),
    grpcChannels: Math.round(number(pick(values['grpc-channels'], 'BENCH_GRPC_CHANNELS'), 1)),
    tmCpuProf: pick(values['tm-cpu-prof'], 'BENCH_TM_CPU_PROF'),
    clusterConcurrencies: list(pick(values['cluster-concurrency'], 'BENCH_CLUSTER_CONCURRENCY'), [32, 128]),
    twoNodeConcurrencies: list(pick(values['two-node-concurrency'], 'BENCH_TWO_NODE_CONCURRENCY'), [32]),
    leaseMs: Math.round(number(pick(values['lease-ms'], 'BENCH_LEASE_MS'), 5000)),
    takeoverIntervalMs: Math.round(number(pick(values['takeover-interval-ms'], 'BENCH_TAKEOVER_INTERVAL_MS'), 500)),
    takeoverRounds: Math.round(number(pick(values['takeover-rounds'], 'BENCH_TAKEOVER_ROUNDS'), quick ? 1 : 3)),
    storeServer: storeServer === 'own' ? undefined : storeServer,
    breakdownTransfers: Math.round(number(pick(values['breakdown-transfers'], 'BENCH_BREAKDOWN_TRANSFERS'), quick ? 60 : 400)),
    baselineRev,
    out: pick(values.out, 'BENCH_OUT') ?? outName(quick, parts, baselineRev !== undefined),
  }
}
