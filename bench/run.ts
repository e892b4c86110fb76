// `npm run bench`: Arbiter against raw two-phase commit on the same
// PostgreSQL and MariaDB servers (issue #9), and the cluster on the postgres
// store (issue #23). This process is the load generator; the TMs run in
// their own child processes (their CPU is measured alone). Servers:
// ARBITER_TEST_PG_URL / ARBITER_TEST_MYSQL_URL, else throwaway ones from the
// installed binaries (test/harness).
//
// Parts (options.ts): log (the decision log alone), main (five ways of a
// transfer, main-phase.ts), cluster (the postgres store and two nodes,
// cluster-bench.ts), takeover (takeover-time.ts), and only when asked for,
// breakdown (where a transfer's time goes at concurrency 1, from traces:
// breakdown.ts; it runs last, the only traced part).
//
//   npm run bench                       # the full run (~9 minutes), writes bench/results/latest.*
//   npm run bench -- --quick            # a smoke check (~2 minutes), writes bench/results/quick.*
//   npm run bench -- --only cluster,takeover   # the cluster parts alone, writes latest-cluster-takeover.*
//   npm run bench -- --only breakdown          # the per-phase breakdown alone (~1 minute), writes latest-breakdown.*
//   npm run bench -- --breakdown               # the full run and the breakdown, writes latest.*
//   npm run bench -- --concurrency 1,32 --rounds 2 --round-seconds 3 --variants raw-2pc,tm-enlist
//   npm run bench -- --tm-cpu-prof /tmp/prof   # also write a V8 CPU profile of the TM
//   npm run bench -- --baseline-rev e2b9fca^ --concurrency 1,32 --rounds 5
//                                              # the main part, each TM variant also on the TM of e2b9fca^, writes latest-baseline.*
//
// Every flag has an environment twin: BENCH_CONCURRENCY, BENCH_ROUNDS, …
import { mkdirSync, writeFileSync } from 'node:fs'
import { cpus, release, totalmem, type } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createBank, totalBalance } from '../examples/bank-transfer/schema.js'
import { applyEnv, parseConfig, type ArbiterConfig } from '../server/config.js'
import { ensureServers } from '../test/harness/ensure-servers.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart, type TestServer } from '../test/harness/index.js'
import { createBaselineWorktree, type BaselineWorktree } from './baseline-worktree.js'
import { runBreakdown, type BreakdownPart } from './breakdown.js'
import { runClusterParts, type ClusterParts } from './cluster-bench.js'
import { clusterTargets } from './cluster-result.js'
import { logBench } from './log-bench.js'
import { runMainPhase, type MainPhase } from './main-phase.js'
import { targetChecks } from './main-targets.js'
import { parseOptions } from './options.js'
import { renderMarkdown } from './render-markdown.js'
import { renderSvg } from './render-svg.js'
import type { BenchResult, Environment, Settings } from './result.js'

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url))

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
  const parts = options.parts
  const command = `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(' ')}` : ''}`
  say(
    `Arbiter benchmark${options.quick ? ' (quick mode)' : ''}: parts ${[...parts].join(', ')}` +
      (parts.has('main') ? `; main: ${options.variants.join(', ')} at concurrency ${options.concurrencies.join(', ')}` : '') +
      (options.baselineRev ? `; baseline TM: ${options.baselineRev}` : '') +
      (parts.has('cluster') ? `; cluster at concurrency ${options.clusterConcurrencies.join(', ')}` : '') +
      (parts.has('breakdown') ? `; breakdown: ${options.breakdownTransfers} transfers per variant at concurrency 1` : ''),
  )

  // 1. The decision-log micro-benchmark first, while nothing else runs.
  const logRows = parts.has('log') && options.logWriters.length ? await logBench(options.logWriters, options.logSeconds, say) : []

  const ready = ensureServers({ who: 'the benchmark', rerun: 'npm run bench' })
  if (ready !== 0) return ready
  const servers: TestServer[] = []
  let pgPool: pg.Pool | undefined
  let mysqlPool: mysql.Pool | undefined
  let baseline: BaselineWorktree | undefined
  try {
    if (options.baselineRev) {
      baseline = createBaselineWorktree(options.baselineRev)
      say(`baseline TM: ${options.baselineRev} = ${baseline.commit.slice(0, 7)} (${baseline.subject.slice(0, 80)}), worktree ${baseline.dir}; this TM: ${baseline.current}`)
    }
    servers.push(...(await Promise.all([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])))
    const [pgServer, mysqlServer] = servers as [TestServer, TestServer]
    const pgUrl = await createDatabase(pgServer.url, 'bench')
    const mysqlUrl = await createDatabase(mysqlServer.url, 'bench')
    const maxC = Math.max(...options.concurrencies)

    // Connection budgets: the bench's pools and the TM's pools (and the baseline TM's) are all open at once.
    const probePg = new pg.Pool({ connectionString: pgUrl, max: 2 })
    const probeMysql = mysql.createPool({ uri: mysqlUrl, connectionLimit: 2 })
    const facts = await serverFacts(probePg, probeMysql)
    await probePg.end()
    await probeMysql.end()
    const sides = baseline ? 3 : 2
    const pgPoolMax = Math.max(1, Math.min(maxC, Math.floor((facts.pgMaxConnections - 10) / sides), facts.pgMaxPrepared - 4))
    const mysqlPoolMax = Math.max(1, Math.min(maxC, Math.floor((facts.mysqlMaxConnections - 10) / sides)))
    say(`${facts.postgres} (max_connections ${facts.pgMaxConnections}), ${facts.mariadb} (max_connections ${facts.mysqlMaxConnections}); pools ≤ ${pgPoolMax} / ${mysqlPoolMax} per side`)

    pgPool = new pg.Pool({ connectionString: pgUrl, max: pgPoolMax })
    pgPool.on('error', () => undefined)
    mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: mysqlPoolMax, resetOnRelease: false })
    say(`creating ${options.accounts.toLocaleString('en-US')} accounts per database`)
    await createBank(pgPool, mysqlPool, options.accounts, 1_000_000_000)
    const balanceBefore = await totalBalance(pgPool, mysqlPool)

    // 2. The five ways of a transfer on one TM (file store).
    const mainPhase: MainPhase | undefined = parts.has('main')
      ? await runMainPhase({ options, pgUrl, mysqlUrl, pgPool, mysqlPool, pgPoolMax, mysqlPoolMax, balanceBefore, ...(baseline && { baseline }), say })
      : undefined
    // Its pools go before the cluster parts open theirs: four pools must fit the servers' connections then.
    await pgPool.end()
    await mysqlPool.end()
    pgPool = mysqlPool = undefined

    // 3. The postgres store, two nodes, takeover.
    const clusterParts: ClusterParts | undefined =
      parts.has('cluster') || parts.has('takeover') ? await runClusterParts({ options, pgUrl, mysqlUrl, pgServerUrl: pgServer.url, facts, say }) : undefined

    // 4. Last, the only traced part (it registers this process's tracer provider): where a transfer's time goes.
    const breakdown: BreakdownPart | undefined = parts.has('breakdown') ? await runBreakdown({ options, pgUrl, mysqlUrl, say }) : undefined

    const environment: Environment = {
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown',
      cores: cpus().length,
      memoryGiB: Math.round(totalmem() / 2 ** 30),
      os: `${type()} ${release()}`,
      node: process.version,
      postgres: facts.postgres,
      mariadb: facts.mariadb,
      durability: facts.durability,
      tmStatsSource: mainPhase?.tmStatsSource ?? 'each TM\'s Prometheus endpoint',
    }
    const settings: Settings = {
      quick: options.quick,
      concurrencies: parts.has('main') ? options.concurrencies : [],
      rounds: options.rounds,
      roundSeconds: options.roundSeconds,
      warmupSeconds: options.warmupSeconds,
      jitWarmupSeconds: options.jitWarmupSeconds,
      accountsPerBank: options.accounts,
      pgPoolMax,
      mysqlPoolMax,
      grpcChannelsMax: mainPhase?.grpcChannels ?? 1,
      logWriters: parts.has('log') ? options.logWriters : [],
      logSeconds: options.logSeconds,
    }
    const result: BenchResult = {
      version: 1,
      startedAt: new Date(t0).toISOString(),
      wallSeconds: (Date.now() - t0) / 1000,
      command,
      environment,
      settings,
      cells: mainPhase?.cells ?? [],
      logBench: logRows,
      ...(clusterParts?.cluster && { cluster: clusterParts.cluster }),
      ...(clusterParts?.takeover && { takeover: clusterParts.takeover }),
      ...(breakdown && { breakdown: breakdown.result }),
      ...(baseline && { baseline: { rev: baseline.rev, commit: baseline.commit, subject: baseline.subject, current: baseline.current } }),
    }
    mkdirSync(RESULTS_DIR, { recursive: true })
    const base = join(RESULTS_DIR, options.out)
    writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`)
    // The chart draws the main part (and the log's): nothing to draw without it.
    const chart = result.cells.length > 0
    if (chart) writeFileSync(`${base}.svg`, renderSvg(result))
    const markdown = renderMarkdown(result, chart ? `${options.out}.svg` : undefined)
    writeFileSync(`${base}.md`, markdown)
    process.stdout.write(`\n${markdown}\n`)
    const checks = [...(result.cells.length ? targetChecks(result) : []), ...(result.cluster || result.takeover ? clusterTargets(result.cluster, result.takeover) : [])]
    for (const t of checks) say(`target: ${t.what}: ${t.measured} (goal ${t.goal}) ${t.met === undefined ? 'n/a' : t.met ? 'met' : t.withinNoise ? 'within noise' : 'MISSED'}`)
    say(`wrote ${base}.json, .md${chart ? ' and .svg' : ''}`)
    const mainSane = mainPhase === undefined || (mainPhase.sanity.balancesConserved && mainPhase.sanity.preparedLeft === 0)
    const breakdownSane = breakdown === undefined || (breakdown.sanity.balancesConserved && breakdown.sanity.preparedLeft === 0)
    return mainSane && breakdownSane && (clusterParts?.sane ?? true) ? 0 : 1
  } catch (error) {
    process.stderr.write(`\nbenchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  } finally {
    await pgPool?.end().catch(() => undefined)
    await mysqlPool?.end().catch(() => undefined)
    await Promise.all(servers.map((s) => s.destroy().catch(() => undefined)))
    baseline?.remove()
  }
}

process.exitCode = await main()
