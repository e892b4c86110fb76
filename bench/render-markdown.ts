// The Markdown report (bench/results/latest.md, and the README's Benchmark
// section): every number next to its ratio to raw 2PC measured in the same run.
import {
  CLUSTER_VARIANTS,
  CLUSTER_VARIANT_INFO,
  clusterCell,
  clusterTargets,
  fmtSpread,
  spreadOf,
  tpsRatio,
  type ClusterResult,
  type ClusterVariant,
  type TakeoverResult,
} from './cluster-result.js'
import { TM_VARIANTS, VARIANTS, VARIANT_LABEL, cellOf, ratioToRaw, targetChecks, type BenchResult, type TargetCheck } from './result.js'

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

export function targetsTable(result: BenchResult, checks: readonly TargetCheck[] = targetChecks(result)): string {
  const lines = ['| target | goal | measured | met |', '|---|---:|---:|:---:|']
  for (const t of checks) lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${t.met === undefined ? 'n/a' : t.met ? 'yes' : '**no**'} |`)
  return lines.join('\n')
}

/** The file-store variant a postgres-store one compares with, and the one-node one a two-node one does. */
const FILE_TWIN: Partial<Record<ClusterVariant, ClusterVariant>> = {
  'pg-enlist': 'file-enlist',
  'pg2-enlist': 'file-enlist',
  'pg-execute': 'file-execute',
  'pg2-execute': 'file-execute',
}
const ONE_NODE: Partial<Record<ClusterVariant, ClusterVariant>> = { 'pg2-enlist': 'pg-enlist', 'pg2-execute': 'pg-execute' }

/** The cluster part's table: one row per (concurrency, variant), ratios with their spread over rounds in brackets. */
export function clusterTable(cluster: ClusterResult): string {
  const lines = [
    '| conc. | variant | tx/s | ÷ raw 2PC | ÷ file store | ÷ one node | p50 ms | p99 ms | store commits / tx | log writes / tx (Arbiter) | TM CPU ms / tx | store CPU ms / tx | longest stall ms | machine busy | failed |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
  ]
  const dash = (v: number | null, digits: number): string => (v === null ? '—' : v.toFixed(digits))
  for (const c of cluster.concurrencies) {
    for (const v of CLUSTER_VARIANTS) {
      const cell = clusterCell(cluster, v, c)
      if (!cell) continue
      const info = CLUSTER_VARIANT_INFO[v]
      const twin = FILE_TWIN[v]
      const one = ONE_NODE[v]
      const vsRaw = v === 'raw-2pc' ? '1.00×' : fmtSpread(tpsRatio(cell, clusterCell(cluster, 'raw-2pc', c)))
      const vsFile = twin ? fmtSpread(tpsRatio(cell, clusterCell(cluster, twin, c))) : '—'
      const vsOne = one ? fmtSpread(tpsRatio(cell, clusterCell(cluster, one, c))) : '—'
      const commits = cell.storeCommitsPerTx === null ? '—' : fmtSpread(spreadOf(cell.storeCommitsPerTx, cell.storeCommitsPerTxRounds), 3, '')
      const name = v === 'raw-2pc' ? `**${info.label}**` : info.label
      lines.push(
        `| ${c} | ${name} | ${num(cell.tps)} | ${vsRaw} | ${vsFile} | ${vsOne} | ${ms(cell.p50Ms)} | ${ms(cell.p99Ms)} | ${commits} | ${dash(cell.logWritesPerTx, 3)} | ${dash(cell.tmCpuMsPerTx, 2)} | ${dash(cell.storeCpuMsPerTx, 2)} | ${cell.eventLoopLagMaxMs === null ? '—' : num(cell.eventLoopLagMaxMs)} | ${cell.machineBusy === null ? 'n/a' : `${Math.round(cell.machineBusy * 100)}%`} | ${aborts(cell.failed)} |`,
      )
    }
  }
  return lines.join('\n')
}

export function takeoverTable(takeover: TakeoverResult): string {
  const lines = [
    '| round | killed node | prepared branches | decided (committed by the taker) | undecided (presumed aborted) | lease left at the kill | taken over after | all finished after | outcomes |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---|',
  ]
  const s = (v: number | null): string => (v === null ? 'n/a' : `${(v / 1000).toFixed(2)} s`)
  takeover.rounds.forEach((r, i) => {
    lines.push(`| ${i + 1} | ${r.node} | ${r.preparedBranches} | ${r.decided} | ${r.undecided} | ${s(r.leaseLeftMs)} | ${s(r.takenOverMs)} | ${s(r.finishedMs)} | ${r.outcomesRight ? 'right' : '**wrong**'} |`)
  })
  return lines.join('\n')
}

/** The cluster parts' section (issue #23), when they ran. */
export function clusterSection(result: BenchResult): string[] {
  const { cluster, takeover } = result
  if (!cluster && !takeover) return []
  const parts = ['## Cluster: the postgres store, two nodes, takeover (issue #23)', '']
  if (cluster) {
    parts.push(
      `The decision log in the shared PostgreSQL store (\`log.store: postgres\`; the store is ${cluster.store}) against raw 2PC and the ` +
        'file store, in the same rounds (every variant once per round, shuffled). *One node*: a client given node A only (node B idles in the ' +
        'cluster, renewing its lease); *two nodes*: a client given both (`createArbiterClient({ addresses })`, round robin). ' +
        '*Store commits / tx*: commits of the store\'s database as PostgreSQL counts them (`pg_stat_database.xact_commit`: decision batches, ' +
        'lease renewals, takeover scans, reads), read inside each window under load, per committed transfer. Ratios are of the totals, ' +
        `with the lowest and highest round in brackets. Lease ${cluster.leaseMs} ms, takeover interval ${cluster.takeoverIntervalMs} ms; ` +
        `${cluster.rounds} round(s) of ${cluster.roundSeconds} s after a ${cluster.warmupSeconds} s warm-up per concurrency; ` +
        `at most ${cluster.pgPool} PostgreSQL and ${cluster.mysqlPool} MariaDB connections per pool (the bench's own and each TM's: four pools share the servers' connections); ` +
        `sanity: balances ${cluster.balancesConserved ? 'conserved' : '**not conserved**'}, ${cluster.preparedLeft} prepared branch(es) left.`,
      '',
      clusterTable(cluster),
      '',
    )
  }
  if (takeover) {
    parts.push(
      '### Takeover time',
      '',
      'Two nodes on the postgres store (the store is ' +
        `${takeover.store}); one of them is SIGKILLed with transactions in doubt: some decided and waiting for phase 2, ` +
        'the others prepared and waiting for their decision (fail points hold them there). The clock runs from the SIGKILL until ' +
        "none of its branches is prepared in either database (`pg_prepared_xacts`, `XA RECOVER`): the other node commits the " +
        'decided ones and presumes the rest aborted. ' +
        takeover.leaseWhy,
      '',
      takeoverTable(takeover),
      '',
    )
  }
  parts.push('### Targets (issue #23)', '', targetsTable(result, clusterTargets(cluster, takeover)), '')
  return parts
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
    // Without the main part (--only/--skip) its load, pools and TM lines would describe nothing that ran.
    ...(s.concurrencies.length
      ? [
          `- load: closed loop, ${s.concurrencies.join(' / ')} transfers in flight; per concurrency a ${s.warmupSeconds} s warm-up of every variant, then ${s.rounds} round(s) of ${s.roundSeconds} s per variant in shuffled order; ${s.accountsPerBank.toLocaleString('en-US')} accounts per database`,
          `- pools: at most ${s.pgPoolMax} PostgreSQL and ${s.mysqlPoolMax} MariaDB connections per side (the bench's own pools; the TM's pools); ${s.grpcChannelsMax === 1 ? 'one Arbiter client (one gRPC channel, one BatchedSession stream), as an application has' : `up to ${s.grpcChannelsMax} Arbiter clients, each its own gRPC channel (\`grpc.use_local_subchannel_pool\`)`}`,
          `- TM: a separate process (\`server/main.ts\`), file decision log; TM stats from ${e.tmStatsSource}`,
        ]
      : [`- load: closed loop; ${s.accountsPerBank.toLocaleString('en-US')} accounts per database; every TM and node a separate process (\`server/main.ts\`), stats from its Prometheus endpoint`]),
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
    ...(result.cells.length ? [resultsTable(result), '', '## Targets (issue #9)', '', targetsTable(result), ''] : []),
    ...clusterSection(result),
    ...(result.logBench.length ? ['## Decision log: group commit versus one fsync per decision', '', logBenchTable(result), ''] : []),
    '## Run',
    '',
    environmentList(result),
    '',
  ]
  return parts.join('\n')
}
