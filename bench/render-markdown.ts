// The Markdown report (bench/results/latest.md, and the README's Benchmark
// section): every number next to its ratio to raw 2PC measured in the same run.
import { TM_VARIANTS, VARIANTS, VARIANT_LABEL, cellOf, ratioToRaw, targetChecks, type BenchResult } from './result.js'

const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
const ms = (n: number): string => (n >= 100 ? num(n, 0) : n >= 10 ? num(n, 1) : num(n, 2))
const ratio = (r: number | undefined): string => (r === undefined ? '—' : `${r.toFixed(2)}×`)

function aborts(aborted: Readonly<Record<string, number>>): string {
  const entries = Object.entries(aborted).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return '0'
  return entries.map(([reason, n]) => `${n} ${reason.replace(/\|/g, '\\|')}`).join('; ')
}

/** The main table: one row per (concurrency, variant). */
export function resultsTable(result: BenchResult): string {
  const lines = [
    '| conc. | variant | tx/s | tx/s ÷ raw 2PC | p50 ms | p50 ÷ raw | p95 ms | p99 ms | p99 ÷ raw | fsyncs / commit | TM CPU ms / tx | load-gen CPU ms / tx | machine busy (all processes) | failed |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  for (const c of result.settings.concurrencies) {
    for (const v of VARIANTS) {
      const cell = cellOf(result, v, c)
      if (!cell) continue
      const tm = TM_VARIANTS.includes(v)
      const fsyncs = tm ? (cell.fsyncsPerCommit === null ? 'n/a' : cell.fsyncsPerCommit.toFixed(3)) : '—'
      const cpu = tm ? (cell.tmCpuMsPerTx === null ? 'n/a' : cell.tmCpuMsPerTx.toFixed(2)) : '—'
      const name = v === 'raw-2pc' ? `**${VARIANT_LABEL[v]}**` : VARIANT_LABEL[v]
      lines.push(
        `| ${c} | ${name} | ${num(cell.tps)} | ${ratio(ratioToRaw(result, cell, 'tps'))} | ${ms(cell.p50Ms)} | ${ratio(ratioToRaw(result, cell, 'p50Ms'))} | ${ms(cell.p95Ms)} | ${ms(cell.p99Ms)} | ${ratio(ratioToRaw(result, cell, 'p99Ms'))} | ${fsyncs} | ${cpu} | ${cell.benchCpuMsPerTx === undefined ? 'n/a' : cell.benchCpuMsPerTx.toFixed(2)} | ${cell.machineBusy === undefined ? 'n/a' : `${Math.round(cell.machineBusy * 100)}%`} | ${aborts(cell.aborted)} |`,
      )
    }
  }
  return lines.join('\n')
}

export function targetsTable(result: BenchResult): string {
  const lines = ['| target | goal | measured | met |', '|---|---:|---:|:---:|']
  for (const t of targetChecks(result)) lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'} |`)
  return lines.join('\n')
}

export function logBenchTable(result: BenchResult): string {
  const lines = [
    '| writers | group commit: decisions/s | fsyncs / decision | one fsync each: decisions/s | fsyncs / decision | group ÷ one each |',
    '|---:|---:|---:|---:|---:|---:|',
  ]
  for (const r of result.logBench) {
    const speedup = r.perDecision.decisionsPerS > 0 ? r.groupCommit.decisionsPerS / r.perDecision.decisionsPerS : undefined
    lines.push(
      `| ${r.writers} | ${num(r.groupCommit.decisionsPerS)} | ${r.groupCommit.fsyncsPerDecision.toFixed(3)} | ${num(r.perDecision.decisionsPerS)} | ${r.perDecision.fsyncsPerDecision.toFixed(3)} | ${ratio(speedup)} |`,
    )
  }
  return lines.join('\n')
}

export function environmentList(result: BenchResult): string {
  const e = result.environment
  const s = result.settings
  return [
    `- machine: ${e.cpuModel}, ${e.cores} cores, ${e.memoryGiB} GiB; ${e.os}; Node ${e.node}`,
    `- servers: ${e.postgres}; ${e.mariadb} (all on loopback, on the same machine as the TM and the load generator)`,
    `- durability: ${e.durability}`,
    `- load: closed loop, ${s.concurrencies.join(' / ')} transfers in flight; per concurrency a ${s.warmupSeconds} s warm-up of every variant, then ${s.rounds} round(s) of ${s.roundSeconds} s per variant in shuffled order; ${s.accountsPerBank.toLocaleString('en-US')} accounts per database`,
    `- pools: at most ${s.pgPoolMax} PostgreSQL and ${s.mysqlPoolMax} MariaDB connections per side (the bench's own pools; the TM's pools); ${s.grpcChannelsMax === 1 ? 'one Arbiter client (one gRPC channel, one BatchedSession stream), as an application has' : `up to ${s.grpcChannelsMax} Arbiter clients, each its own gRPC channel (\`grpc.use_local_subchannel_pool\`)`}`,
    `- TM: a separate process (\`server/main.ts\`), file decision log; TM stats from ${e.tmStatsSource}`,
    `- run: ${result.startedAt}, ${Math.round(result.wallSeconds)} s, \`${result.command}\``,
  ].join('\n')
}

/** The whole report; `chart` is the SVG's path relative to the Markdown file, when there is one. */
export function renderMarkdown(result: BenchResult, chart?: string): string {
  const parts = [
    '# Arbiter benchmark: bank transfers, PostgreSQL → MariaDB (and back)',
    '',
    'Every transfer debits an account in one database and credits one in the other, with a ledger row in each: ' +
      'every variant but *local* is a two-phase commit across both. *raw 2PC* is the application doing ' +
      '`PREPARE TRANSACTION` / `XA PREPARE` and the commits itself (no TM, no log): the physical limit here. ' +
      'Ratios are to raw 2PC at the same concurrency, measured in the same run.',
    '',
    ...(chart ? [`![throughput and p99 by concurrency; decision-log micro-benchmark](${chart})`, ''] : []),
    resultsTable(result),
    '',
    '## Targets (issue #9)',
    '',
    targetsTable(result),
    '',
    '## Decision log: group commit versus one fsync per decision',
    '',
    logBenchTable(result),
    '',
    '## Run',
    '',
    environmentList(result),
    '',
  ]
  return parts.join('\n')
}
