// `npm run demo`: the bank across PostgreSQL and MariaDB/MySQL, with the TM
// killed halfway. `npm run demo -- --cluster`: the same on three TM nodes on
// a shared PostgreSQL store, one of them killed halfway and taken over by
// another. Uses the databases in ARBITER_TEST_PG_URL / ARBITER_TEST_MYSQL_URL,
// else starts throwaway servers from the installed binaries (installing them
// first where it can, as `npm test` does), else says how to run
// `docker compose up -d`.
import { Command } from '@commander-js/extra-typings'
import pc from 'picocolors'
import { ensureServers } from '../../test/harness/ensure-servers.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart, type TestServer } from '../../test/harness/index.js'
import type { BankSummary } from './demo-workload.js'
import { runClusterDemo, type ClusterDemoSummary } from './run-cluster-demo.js'
import { runDemo, type DemoProgress, type DemoSummary } from './run-demo.js'

const cli = new Command('npm run demo --')
  .description('The bank demo: random transfers between PostgreSQL and MariaDB/MySQL through Arbiter, with a TM SIGKILLed halfway.')
  .option('--cluster', 'three TM nodes on a shared PostgreSQL store (log.store: postgres); one is SIGKILLed halfway and another takes it over')
  .addHelpText(
    'after',
    `
Environment:
  DEMO_TRANSFERS           how many transfers (default 2000)
  DEMO_CONCURRENCY         how many at a time (default 16)
  DEMO_LEASE_MS            with --cluster: the nodes' cluster.leaseMs (default 2000)
  DEMO_TM_LOG              write the TM's own log (JSON lines) to this file
  ARBITER_TEST_PG_URL, ARBITER_TEST_MYSQL_URL
                           database servers to use (else throwaway ones are started)`,
  )
  .parse()
const cluster = cli.opts().cluster === true

const transfers = Number(process.env.DEMO_TRANSFERS ?? 2000)
const concurrency = Number(process.env.DEMO_CONCURRENCY ?? 16)
const leaseMs = Number(process.env.DEMO_LEASE_MS ?? 2000)

async function main(): Promise<number> {
  const ready = ensureServers({ who: 'the demo', rerun: cluster ? 'npm run demo -- --cluster' : 'npm run demo' })
  if (ready !== 0) return ready
  const servers: TestServer[] = []
  try {
    // Both started, or the one that did is stopped again below (a server left running keeps this process alive).
    const started = await Promise.allSettled([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    const [pgServer, mysqlServer] = servers as [TestServer, TestServer]
    const pgUrl = await createDatabase(pgServer.url, 'bank')
    const mysqlUrl = await createDatabase(mysqlServer.url, 'bank')
    say(`${pc.bold('Arbiter bank demo')}: ${transfers} random transfers between 40 accounts, half in PostgreSQL, half in MariaDB/MySQL,`)
    say(`${concurrency} at a time, half through the TM (execute), half on the app's own connections (enlist).`)
    if (cluster) return await clusterDemo(pgServer, pgUrl, mysqlUrl)
    say(`The TM is killed with SIGKILL halfway.\n`)
    const summary = await runDemo({
      pgUrl,
      mysqlUrl,
      transfers,
      concurrency,
      onProgress: progress,
      log: (line) => say(`\n${pc.cyan('›')} ${line}`),
      ...(process.env.DEMO_TM_LOG && { tmLogFile: process.env.DEMO_TM_LOG }),
    })
    process.stdout.write('\n')
    printSummary(summary)
    return passed(summary) ? 0 : 1
  } catch (error) {
    process.stderr.write(`\n${pc.red('demo failed:')} ${error instanceof Error ? error.message : String(error)}\n`)
    process.stderr.write('No database servers? Run `docker compose up -d --wait` and export ARBITER_TEST_PG_URL and ARBITER_TEST_MYSQL_URL (see docs/testing.md).\n')
    return 1
  } finally {
    await Promise.allSettled(servers.map((s) => s.destroy()))
  }
}

async function clusterDemo(pgServer: TestServer, pgUrl: string, mysqlUrl: string): Promise<number> {
  say(`Three TM nodes share one PostgreSQL store (log.store: postgres), lease ${leaseMs} ms; the client is given all three addresses.`)
  say(`One node is killed with SIGKILL halfway; another takes its in-doubt transfers over once its lease lapses.\n`)
  const summary = await runClusterDemo({
    pgUrl,
    mysqlUrl,
    storeUrl: await createDatabase(pgServer.url, 'store'),
    transfers,
    concurrency,
    leaseMs,
    onProgress: progress,
    log: (line) => say(`\n${pc.cyan('›')} ${line}`),
    ...(process.env.DEMO_TM_LOG && { tmLogFile: process.env.DEMO_TM_LOG }),
  })
  process.stdout.write('\n')
  printSummary(summary)
  printCluster(summary)
  return passed(summary) && summary.takeover !== undefined ? 0 : 1
}

function passed(s: BankSummary): boolean {
  return s.anomalies.length === 0 && s.totalBefore === s.totalAfter && s.preparedLeft.pg + s.preparedLeft.mysql === 0
}

function ok(good: boolean, text: string): string {
  return good ? pc.green(`✔ ${text}`) : pc.red(`✘ ${text}`)
}

function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

let lastPrinted = 0
function progress(p: DemoProgress): void {
  const line = `${bar(p.done / p.total)} ${p.done}/${p.total}  committed ${p.committed}  aborted ${p.aborted}  unknown ${p.unknown}`
  if (process.stdout.isTTY) process.stdout.write(`\r${line}`)
  else if (p.done === p.total || p.done - lastPrinted >= p.total / 10) {
    lastPrinted = p.done
    say(line)
  }
}

function bar(fraction: number): string {
  const width = 30
  const filled = Math.round(fraction * width)
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`
}

function printSummary(s: DemoSummary | ClusterDemoSummary): void {
  say(pc.bold('\nSummary'))
  say(`  transfers           ${s.transfers} in ${(s.durationMs / 1000).toFixed(1)} s, ${s.committedPerSecond} committed/s`)
  say(`  committed           ${s.committed} (through the TM ${s.committedByMode.execute}, local branches ${s.committedByMode.enlist})`)
  const reasons = Object.entries(s.aborted).sort((a, b) => b[1] - a[1])
  say(`  aborted             ${reasons.reduce((n, [, c]) => n + c, 0)}${reasons.length ? ` (${reasons.map(([r, c]) => `${r}: ${c}`).join(', ')})` : ''}`)
  say(`  outcome unknown     ${s.unknown.total} at the crash → after recovery ${s.unknown.committed} committed, ${s.unknown.rolledBack} rolled back, none half done`)
  if ('crash' in s && s.crash) say(`  crash recovery      ${s.crash.inDoubtAtRestart} decided transfer(s) in doubt at restart, all finished ${s.crash.recoveredInMs} ms after the restart`)
  say(`  ${ok(s.totalBefore === s.totalAfter, `sum of all balances before ${s.totalBefore}, after ${s.totalAfter}`)}`)
  say(`  ${ok(s.preparedLeft.pg + s.preparedLeft.mysql === 0, `prepared branches left: PostgreSQL ${s.preparedLeft.pg}, MariaDB/MySQL ${s.preparedLeft.mysql}`)}`)
  say(`  ${ok(s.anomalies.length === 0, `anomalies: ${s.anomalies.length}`)}`)
  for (const a of s.anomalies.slice(0, 10)) say(`    ${pc.red(a)}`)
}

function printCluster(s: ClusterDemoSummary): void {
  say(pc.bold('\nCluster') + ` (lease ${s.leaseMs} ms, takeover checks every ${s.takeoverIntervalMs} ms)`)
  if (!s.killed) {
    say(pc.red('  no node was killed'))
  } else {
    const how = s.killed.by === 'fail point' ? 'right after logging a decision' : 'by the demo'
    say(`  killed              ${s.killed.nodeId} (SIGKILL ${how}) after ${s.killed.afterTransfers} transfers, ${s.killed.preparedAtKill} branch(es) of it left prepared`)
    if (s.takeover) {
      say(`  taken over by       ${s.takeover.by}, ${s.takeover.takenOverMs} ms after the kill (≤ lease + takeover interval: ${s.leaseMs + s.takeoverIntervalMs} ms, plus the pass itself)`)
      say(`  in-doubt finished   ${s.takeover.finishedMs} ms after the kill: ${s.takeover.moved} decided transfer(s) moved to ${s.takeover.by} and committed, the rest presumed aborted`)
    } else {
      say(pc.red(`  ✘ no node took ${s.killed.nodeId} over`))
    }
  }
  say('  committed per node  before the kill / after')
  for (const { nodeId } of s.nodes) {
    const c = s.committedPerNode[nodeId] ?? { beforeKill: 0, afterKill: 0 }
    const role = nodeId === s.killed?.nodeId ? ' (killed)' : nodeId === s.takeover?.by ? ' (took over)' : ''
    say(`    ${(nodeId + role).padEnd(28)} ${String(c.beforeKill).padStart(5)} / ${c.afterKill}`)
  }
  if (s.killed) {
    if ((s.committedPerNode[s.killed.nodeId]?.afterKill ?? 0) > 0) say(`    (the killed node's "after": transfers in doubt at the kill, found committed afterwards)`)
    const survivors = s.nodes.filter((n) => n.nodeId !== s.killed?.nodeId)
    const committing = survivors.filter((n) => (s.committedPerNode[n.nodeId]?.afterKill ?? 0) > 0).length
    say(`  ${ok(committing === survivors.length, `transfers committed after the kill on ${committing} of the ${survivors.length} surviving nodes`)}`)
  }
}

process.exitCode = await main()
