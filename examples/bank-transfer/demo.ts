// `npm run demo`: the bank across PostgreSQL and MariaDB/MySQL, with the TM
// killed halfway. Uses the databases in ARBITER_TEST_PG_URL /
// ARBITER_TEST_MYSQL_URL, else starts throwaway servers from the installed
// binaries (installing them first where it can, as `npm test` does), else
// says how to run `docker compose up -d`.
import pc from 'picocolors'
import { ensureServers } from '../../test/harness/ensure-servers.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart, type TestServer } from '../../test/harness/index.js'
import { runDemo, type DemoProgress, type DemoSummary } from './run-demo.js'

const transfers = Number(process.env.DEMO_TRANSFERS ?? 2000)
const concurrency = Number(process.env.DEMO_CONCURRENCY ?? 16)

async function main(): Promise<number> {
  const ready = ensureServers({ who: 'the demo', rerun: 'npm run demo' })
  if (ready !== 0) return ready
  const servers: TestServer[] = []
  try {
    servers.push(...(await Promise.all([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])))
    const [pgServer, mysqlServer] = servers as [TestServer, TestServer]
    const pgUrl = await createDatabase(pgServer.url, 'bank')
    const mysqlUrl = await createDatabase(mysqlServer.url, 'bank')
    say(`${pc.bold('Arbiter bank demo')}: ${transfers} random transfers between 40 accounts, half in PostgreSQL, half in MariaDB/MySQL,`)
    say(`${concurrency} at a time, half through the TM (execute), half on the app's own connections (enlist).`)
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
    return summary.anomalies.length === 0 && summary.preparedLeft.pg + summary.preparedLeft.mysql === 0 ? 0 : 1
  } catch (error) {
    process.stderr.write(`\n${pc.red('demo failed:')} ${error instanceof Error ? error.message : String(error)}\n`)
    process.stderr.write('No database servers? Run `docker compose up -d --wait` and export ARBITER_TEST_PG_URL and ARBITER_TEST_MYSQL_URL (see README).\n')
    return 1
  } finally {
    await Promise.allSettled(servers.map((s) => s.destroy()))
  }
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

function printSummary(s: DemoSummary): void {
  const ok = (good: boolean, text: string): string => (good ? pc.green(`✔ ${text}`) : pc.red(`✘ ${text}`))
  say(pc.bold('\nSummary'))
  say(`  transfers           ${s.transfers} in ${(s.durationMs / 1000).toFixed(1)} s, ${s.committedPerSecond} committed/s`)
  say(`  committed           ${s.committed} (through the TM ${s.committedByMode.execute}, local branches ${s.committedByMode.enlist})`)
  const reasons = Object.entries(s.aborted).sort((a, b) => b[1] - a[1])
  say(`  aborted             ${reasons.reduce((n, [, c]) => n + c, 0)}${reasons.length ? ` (${reasons.map(([r, c]) => `${r}: ${c}`).join(', ')})` : ''}`)
  say(`  outcome unknown     ${s.unknown.total} at the crash → after recovery ${s.unknown.committed} committed, ${s.unknown.rolledBack} rolled back, none half done`)
  if (s.crash) say(`  crash recovery      ${s.crash.inDoubtAtRestart} decided transfer(s) in doubt at restart, all finished ${s.crash.recoveredInMs} ms after the restart`)
  say(`  ${ok(s.totalBefore === s.totalAfter, `sum of all balances before ${s.totalBefore}, after ${s.totalAfter}`)}`)
  say(`  ${ok(s.preparedLeft.pg + s.preparedLeft.mysql === 0, `prepared branches left: PostgreSQL ${s.preparedLeft.pg}, MariaDB/MySQL ${s.preparedLeft.mysql}`)}`)
  say(`  ${ok(s.anomalies.length === 0, `anomalies: ${s.anomalies.length}`)}`)
  for (const a of s.anomalies.slice(0, 10)) say(`    ${pc.red(a)}`)
}

process.exitCode = await main()
