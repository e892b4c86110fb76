// `npm run bench`: Arbiter against raw two-phase commit on the same
// PostgreSQL and MariaDB servers (issue #9). This process is the load
// generator; the TM runs in its own child process (its CPU is measured
// alone). Servers: ARBITER_TEST_PG_URL / ARBITER_TEST_MYSQL_URL, else
// throwaway ones from the installed binaries (test/harness).
//
//   npm run bench                       # the full run (~5–6 minutes), writes bench/results/latest.*
//   npm run bench -- --quick            # a smoke check (~1 minute), writes bench/results/quick.*
//   npm run bench -- --concurrency 1,32 --rounds 2 --round-seconds 3 --variants raw-2pc,tm-enlist
//   npm run bench -- --tm-cpu-prof /tmp/prof   # also write a V8 CPU profile of the TM
//
// Every flag has an environment twin: BENCH_CONCURRENCY, BENCH_ROUNDS, …
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient, type ArbiterClient } from '../client/index.js'
import { createBank, totalBalance } from '../examples/bank-transfer/schema.js'
import { applyEnv, parseConfig, type ArbiterConfig, type ArbiterConfigInput } from '../server/config.js'
import { ensureServers } from '../test/harness/ensure-servers.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart, type TestServer } from '../test/harness/index.js'
import { ArbiterProcess, testConfig } from '../test/helpers/test-arbiter.js'
import { closedLoop, newHistogram, shuffle, type Histogram } from './closed-loop.js'
import { logBench } from './log-bench.js'
import { renderMarkdown } from './render-markdown.js'
import { renderSvg } from './render-svg.js'
import { TM_VARIANTS, VARIANTS, VARIANT_LABEL, targetChecks, type BenchResult, type Cell, type Environment, type Settings, type Variant } from './result.js'
import { TmStats, machineCpu, metricsAddress } from './tm-stats.js'
import { failureReason, randomTransfer, runTransfer, type Workload } from './workload.js'

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

interface Options {
  readonly quick: boolean
  readonly concurrencies: number[]
  readonly rounds: number
  readonly roundSeconds: number
  readonly warmupSeconds: number
  readonly accounts: number
  readonly variants: Variant[]
  readonly logWriters: number[]
  readonly logSeconds: number
  readonly grpcChannels: number
  readonly tmCpuProf: string | undefined
  readonly out: string
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      concurrency: { type: 'string' },
      rounds: { type: 'string' },
      'round-seconds': { type: 'string' },
      'warmup-seconds': { type: 'string' },
      accounts: { type: 'string' },
      variants: { type: 'string' },
      'log-writers': { type: 'string' },
      'log-seconds': { type: 'string' },
      'grpc-channels': { type: 'string' },
      'tm-cpu-prof': { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    process.stdout.write(
      'npm run bench -- [--quick] [--concurrency 1,8,32,128] [--rounds 3] [--round-seconds 4] [--warmup-seconds 1.5]\n' +
        `  [--accounts 10000] [--variants ${VARIANTS.join(',')}] [--log-writers 1,4,16,64,256] [--log-seconds 1.5]\n` +
        '  [--grpc-channels 1] [--tm-cpu-prof DIR] [--out latest]\n' +
        'Environment twins: BENCH_QUICK=1, BENCH_CONCURRENCY, BENCH_ROUNDS, BENCH_ROUND_SECONDS, ...\n',
    )
    process.exit(0)
  }
  const pick = (flag: string | undefined, env: string): string | undefined => flag ?? (process.env[env]?.trim() || undefined)
  const list = (text: string | undefined, fallback: number[]): number[] => {
    if (text === undefined) return fallback
    const numbers = text.split(',').map((s) => Number(s.trim()))
    if (numbers.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`not a list of positive integers: ${text}`)
    return numbers
  }
  const number = (text: string | undefined, fallback: number): number => {
    if (text === undefined) return fallback
    const n = Number(text)
    if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${text}`)
    return n
  }
  const quick = values.quick === true || process.env.BENCH_QUICK === '1'
  const variantsText = pick(values.variants, 'BENCH_VARIANTS')
  const variants = variantsText ? variantsText.split(',').map((v) => v.trim()) : [...VARIANTS]
  for (const v of variants) if (!(VARIANTS as readonly string[]).includes(v)) throw new Error(`unknown variant ${v} (known: ${VARIANTS.join(', ')})`)
  return {
    quick,
    concurrencies: list(pick(values.concurrency, 'BENCH_CONCURRENCY'), quick ? [1, 8] : [1, 8, 32, 128]),
    rounds: Math.round(number(pick(values.rounds, 'BENCH_ROUNDS'), quick ? 1 : 3)),
    roundSeconds: number(pick(values['round-seconds'], 'BENCH_ROUND_SECONDS'), quick ? 1.5 : 4),
    warmupSeconds: number(pick(values['warmup-seconds'], 'BENCH_WARMUP_SECONDS'), quick ? 0.5 : 1.5),
    accounts: Math.round(number(pick(values.accounts, 'BENCH_ACCOUNTS'), 10_000)),
    variants: variants as Variant[],
    logWriters: list(pick(values['log-writers'], 'BENCH_LOG_WRITERS'), quick ? [1, 16] : [1, 4, 16, 64, 256]),
    logSeconds: number(pick(values['log-seconds'], 'BENCH_LOG_SECONDS'), quick ? 0.5 : 1.5),
    grpcChannels: Math.round(number(pick(values['grpc-channels'], 'BENCH_GRPC_CHANNELS'), 1)),
    tmCpuProf: pick(values['tm-cpu-prof'], 'BENCH_TM_CPU_PROF'),
    out: pick(values.out, 'BENCH_OUT') ?? (quick ? 'quick' : 'latest'),
  }
}

// ── progress ────────────────────────────────────────────────────────────────
const t0 = Date.now()
const clock = (): string => {
  const s = Math.round((Date.now() - t0) / 1000)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}
function say(line: string): void {
  process.stdout.write(`[${clock()}] ${line}\n`)
}

// ── the run ─────────────────────────────────────────────────────────────────
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

/** The TM's commit delay as this run configures it (defaults, or ARBITER_LOG__* from the environment). */
function commitDelayText(): string {
  let log: ArbiterConfig['log']
  try {
    log = parseConfig(applyEnv({}, process.env)).log
  } catch {
    return '' // the TM itself reports a bad setting
  }
  if (log.commitDelayMs <= 0) return ', no commit delay'
  return (
    `, with a commit delay under load of at most ${log.commitDelayMs} ms until ${log.commitBatchFraction} of the ` +
    `transactions in progress have decided (log.commitDelayMs, log.commitBatchFraction, log.commitSiblings ${log.commitSiblings})`
  )
}

async function serverFacts(pgPool: pg.Pool, mysqlPool: mysql.Pool): Promise<{
  postgres: string
  mariadb: string
  durability: string
  pgMaxConnections: number
  pgMaxPrepared: number
  mysqlMaxConnections: number
}> {
  const setting = async (name: string): Promise<string> => String((await pgPool.query<{ v: string }>(`SELECT current_setting('${name}') AS v`)).rows[0]?.v)
  const [mysqlRows] = await mysqlPool.query(
    'SELECT VERSION() AS version, @@innodb_flush_log_at_trx_commit AS flush, @@log_bin AS log_bin, @@max_connections AS max_connections',
  )
  const m = (mysqlRows as { version: string; flush: number; log_bin: number; max_connections: number }[])[0]!
  const pgVersion = (await setting('server_version')).split(' ')[0]
  return {
    postgres: `PostgreSQL ${pgVersion}`,
    mariadb: `${/mariadb/i.test(m.version) ? 'MariaDB' : 'MySQL'} ${m.version.split('-')[0]}`,
    durability:
      `PostgreSQL fsync=${await setting('fsync')}, synchronous_commit=${await setting('synchronous_commit')}; ` +
      `MariaDB innodb_flush_log_at_trx_commit=${m.flush}, log_bin=${m.log_bin ? 'ON' : 'OFF'}; ` +
      'the TM fsyncs (fdatasync) its decision log at every commit point (group commit)' +
      commitDelayText(),
    pgMaxConnections: Number(await setting('max_connections')),
    pgMaxPrepared: Number(await setting('max_prepared_transactions')),
    mysqlMaxConnections: Number(m.max_connections),
  }
}

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2))
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  say(`Arbiter benchmark${options.quick ? ' (quick mode)' : ''}: ${options.variants.join(', ')} at concurrency ${options.concurrencies.join(', ')}`)

  // 1. The decision-log micro-benchmark first, while nothing else runs.
  const logRows = options.logWriters.length ? await logBench(options.logWriters, options.logSeconds, say) : []

  const ready = ensureServers({ who: 'the benchmark', rerun: 'npm run bench' })
  if (ready !== 0) return ready
  const servers: TestServer[] = []
  let tm: ArbiterProcess | undefined
  const clients: ArbiterClient[] = []
  let pgPool: pg.Pool | undefined
  let mysqlPool: mysql.Pool | undefined
  try {
    servers.push(...(await Promise.all([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])))
    const [pgServer, mysqlServer] = servers as [TestServer, TestServer]
    const pgUrl = await createDatabase(pgServer.url, 'bench')
    const mysqlUrl = await createDatabase(mysqlServer.url, 'bench')
    const maxC = Math.max(...options.concurrencies)

    // Connection budgets: the bench's pools and the TM's pools are both open at once.
    const probePg = new pg.Pool({ connectionString: pgUrl, max: 2 })
    const probeMysql = mysql.createPool({ uri: mysqlUrl, connectionLimit: 2 })
    const facts = await serverFacts(probePg, probeMysql)
    await probePg.end()
    await probeMysql.end()
    const pgPoolMax = Math.max(1, Math.min(maxC, Math.floor((facts.pgMaxConnections - 10) / 2), facts.pgMaxPrepared - 4))
    const mysqlPoolMax = Math.max(1, Math.min(maxC, Math.floor((facts.mysqlMaxConnections - 10) / 2)))
    say(`${facts.postgres} (max_connections ${facts.pgMaxConnections}), ${facts.mariadb} (max_connections ${facts.mysqlMaxConnections}); pools ≤ ${pgPoolMax} / ${mysqlPoolMax} per side`)

    pgPool = new pg.Pool({ connectionString: pgUrl, max: pgPoolMax })
    pgPool.on('error', () => undefined)
    mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: mysqlPoolMax, resetOnRelease: false })
    say(`creating ${options.accounts.toLocaleString('en-US')} accounts per database`)
    await createBank(pgPool, mysqlPool, options.accounts, 1_000_000_000)
    const balanceBefore = await totalBalance(pgPool, mysqlPool)

    // The TM: its own process, production-like recovery timing, metrics on when it has them.
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: pgUrl, poolSize: pgPoolMax },
        { name: 'mysql', kind: 'mysql', url: mysqlUrl, poolSize: mysqlPoolMax },
      ],
      {
        transactions: { defaultTimeoutMs: 30_000, maxTimeoutMs: 120_000, localBranchGraceMs: 5_000 },
        recovery: { intervalMs: 10_000, graceMs: 30_000 },
        ...({ metrics: { listen: '127.0.0.1:0' } } as Partial<ArbiterConfigInput>),
      },
    )
    // --cpu-prof is not allowed in NODE_OPTIONS: run node through a shell that adds it.
    const wrapper = options.tmCpuProf ? ['/bin/sh', '-c', `exec "$0" --cpu-prof --cpu-prof-dir='${options.tmCpuProf}' "$@"`] : []
    tm = await ArbiterProcess.start(config, {}, wrapper)
    if (options.tmCpuProf) {
      await tm.stop() // the first start is never wrapped
      await tm.spawn()
    }
    const metrics = metricsAddress(tm.logs())
    const stats = new TmStats(tm.pid, metrics ? `http://${metrics}/metrics` : undefined)
    say(`TM pid ${tm.pid} at ${tm.address}; TM stats from ${stats.source}`)

    const channels = Math.max(1, Math.min(options.grpcChannels, maxC))
    for (let i = 0; i < channels; i++) {
      clients.push(
        createArbiterClient({ address: tm.address, defaultDeadlineMs: 30_000, channelOptions: { 'grpc.use_local_subchannel_pool': 1 } }),
      )
    }
    const workload = (concurrency: number): Workload => ({
      pgPool: pgPool!,
      mysqlPool: mysqlPool!,
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
    const prepared = async (): Promise<number> => {
      const { rows } = await pgPool!.query<{ n: string }>('SELECT count(*) AS n FROM pg_prepared_xacts WHERE database = current_database()')
      const [xa] = await mysqlPool!.query('XA RECOVER')
      return Number(rows[0]?.n ?? 0) + (xa as unknown[]).length
    }
    for (let i = 0; i < 50 && (await prepared()) > 0; i++) await new Promise((r) => setTimeout(r, 200))
    const left = await prepared()
    const balanceAfter = await totalBalance(pgPool, mysqlPool)
    say(`sanity: balances ${balanceBefore === balanceAfter ? 'conserved' : `NOT conserved (${balanceBefore} → ${balanceAfter})`}, ${left} prepared branch(es) left`)

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

    const environment: Environment = {
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${type()} ${release()}`,
      node: process.version,
      postgres: facts.postgres,
      mariadb: facts.mariadb,
      durability: facts.durability,
      tmStatsSource: stats.source,
    }
    const settings: Settings = {
      quick: options.quick,
      concurrencies: options.concurrencies,
      rounds: options.rounds,
      roundSeconds: options.roundSeconds,
      warmupSeconds: options.warmupSeconds,
      accountsPerBank: options.accounts,
      pgPoolMax,
      mysqlPoolMax,
      grpcChannelsMax: channels,
      logWriters: options.logWriters,
      logSeconds: options.logSeconds,
    }
    const result: BenchResult = {
      version: 1,
      startedAt: new Date(t0).toISOString(),
      wallSeconds: (Date.now() - t0) / 1000,
      command,
      environment,
      settings,
      cells,
      logBench: logRows,
    }
    mkdirSync(RESULTS_DIR, { recursive: true })
    const base = join(RESULTS_DIR, options.out)
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`)
    writeFileSync(`${base}.svg`, renderSvg(result))
    const markdown = renderMarkdown(result, `${options.out}.svg`)
    writeFileSync(`${base}.md`, markdown)
    process.stdout.write(`\n${markdown}\n`)
    for (const t of targetChecks(result)) say(`target: ${t.what}: ${t.measured} (goal ${t.goal}) ${t.met === undefined ? 'n/a' : t.met ? 'met' : 'MISSED'}`)
    say(`wrote ${base}.json, .md and .svg`)
    return balanceBefore === balanceAfter && left === 0 ? 0 : 1
  } catch (error) {
    process.stderr.write(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    if (tm) process.stderr.write(`TM log tail:\n${tm.logs().slice(-3000)}\n`)
    return 1
  } finally {
    for (const c of clients) c.close()
    if (tm) {
      await tm.stop() // SIGTERM: a graceful exit, so --cpu-prof writes its profile
      await tm.destroy()
    }
    await pgPool?.end().catch(() => undefined)
    await mysqlPool?.end().catch(() => undefined)
    await Promise.allSettled(servers.map((s) => s.destroy()))
  }
}

process.exitCode = await main()
