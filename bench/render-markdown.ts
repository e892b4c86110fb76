// The Markdown report (bench/results/latest.md, and docs/benchmark.md):
// every number next to its ratio to raw 2PC measured in the same run.
import { CLUSTER_VARIANTS, CLUSTER_VARIANT_INFO, clusterCell, clusterTargets, tpsRatio, type ClusterResult, type ClusterVariant, type TakeoverResult } from './cluster-result.js'
import { DB_STEPS, PHASES, PHASE_LABEL, dbStepKey, floorOf, roundRatioSpread, type BreakdownResult, type DbStep, type Stat, type VariantBreakdown } from './breakdown-phases.js'
import { targetChecks } from './main-targets.js'
import { baselineSection } from './render-baseline.js'
import { ms, num } from './render-format.js'
import { TM_VARIANTS, VARIANTS, VARIANT_LABEL, cellOf, ratioToRaw, type BenchResult, type TargetCheck } from './result.js'
import { fmtSpread, spreadOf } from './spread.js'

const ratio = (r: number | undefined): string => (r === undefined ? '—' : `${r.toFixed(2)}×`)

function aborts(aborted: Readonly<Record<string, number>>): string {
  const entries = Object.entries(aborted).sort((a, b) => b[1] - a[1])
  if (entries.length === 0) return '0'
  return entries.map(([reason, n]) => `${n} ${reason.replace(/\|/g, '\\|')}`).join('; ')
}

/** The one-off warm-up before the first concurrency (options.ts, jitWarmupSeconds), as the Run lines say it. */
function jitText(seconds: number | undefined): string {
  return seconds ? ` (before the first, every variant ${seconds} s under load at the highest concurrency, so each process runs compiled code: V8 still compiles for a fresh TM's first ~20 s)` : ''
}

/** The main table: one row per (concurrency, variant), ratios to raw 2PC with their spread over rounds in brackets. */
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
      const toRaw = (key: 'tps' | 'p50Ms' | 'p99Ms'): string => (v === 'raw-2pc' ? '1.00×' : fmtSpread(ratioToRaw(result, cell, key)))
      lines.push(
        `| ${c} | ${name} | ${num(cell.tps)} | ${toRaw('tps')} | ${ms(cell.p50Ms)} | ${toRaw('p50Ms')} | ${ms(cell.p95Ms)} | ${ms(cell.p99Ms)} | ${toRaw('p99Ms')} | ${fsyncs} | ${cpu} | ${cell.benchCpuMsPerTx === undefined ? 'n/a' : cell.benchCpuMsPerTx.toFixed(2)} | ${cell.machineBusy === undefined ? 'n/a' : `${Math.round(cell.machineBusy * 100)}%`} | ${aborts(cell.aborted)} |`,
      )
    }
  }
  return lines.join('\n')
}

/** yes (every round met it), within noise (some did), **no** (none did), n/a (not measured). */
export function verdictText(t: TargetCheck): string {
  return t.met === undefined ? 'n/a' : t.met ? 'yes' : t.withinNoise ? 'within noise' : '**no**'
}

export function targetsTable(result: BenchResult, checks: readonly TargetCheck[] = targetChecks(result)): string {
  const lines = ['| target | goal | measured | met |', '|---|---:|---:|:---:|']
  for (const t of checks) lines.push(`| ${t.what} | ${t.goal} | ${t.measured} | ${verdictText(t)} |`)
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
        `${cluster.rounds} round(s) of ${cluster.roundSeconds} s after a ${cluster.warmupSeconds} s warm-up per concurrency${jitText(cluster.jitWarmupSeconds)}; ` +
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
  parts.push(
    '### Targets (issue #23)',
    '',
    'Judged round by round, as the #24 targets are: *yes* when every round met the goal, *within noise* when some did, *no* when none did.',
    '',
    targetsTable(result, clusterTargets(cluster, takeover)),
    '',
  )
  return parts
}

/** The breakdown's two tables: medians (p90) per phase, and means (which add up) with what each variant adds over raw 2PC. */
export function breakdownTables(breakdown: BreakdownResult): { medians: string; means: string; tmSpans: string; dbSteps: string } {
  const vs = breakdown.variants
  const raw = vs.find((v) => v.variant === 'raw-2pc')
  const head = `| phase | ${vs.map((v) => (v.variant === 'raw-2pc' ? `**${v.label}**` : v.label)).join(' | ')} |`
  const rule = `|---|${vs.map(() => '---:').join('|')}|`
  const mp = (s: Stat): string => `${s.p50.toFixed(2)} (${s.p90.toFixed(2)})`
  const tm = (v: VariantBreakdown, text: string): string => (v.variant === 'raw-2pc' ? '—' : text)
  const medians = [head, rule]
  for (const p of PHASES) medians.push(`| ${PHASE_LABEL[p]} | ${vs.map((v) => (v.phases[p].p90 === 0 ? '0' : mp(v.phases[p]))).join(' | ')} |`)
  medians.push(`| **total, traced** | ${vs.map((v) => `**${mp(v.total)}**`).join(' | ')} |`)
  medians.push(`| total, untraced (same rounds) | ${vs.map((v) => (v.untraced ? mp(v.untraced) : 'n/a')).join(' | ')} |`)
  const rawUntraced = raw?.untraced?.p50
  const spread = (v: VariantBreakdown): string => {
    const r = raw && v.variant !== 'raw-2pc' ? roundRatioSpread(raw, v) : undefined
    return r ? ` (rounds ${r.min.toFixed(2)}–${r.max.toFixed(2)})` : ''
  }
  medians.push(
    `| untraced p50 ÷ raw 2PC's | ${vs.map((v) => (v.untraced && rawUntraced ? `${(v.untraced.p50 / rawUntraced).toFixed(2)}×${spread(v)}` : 'n/a')).join(' | ')} |`,
  )
  medians.push(`| requests to the TM per transfer | ${vs.map((v) => tm(v, v.requestsPerTransfer.toFixed(1))).join(' | ')} |`)
  const floors = vs.map((v) => (raw ? floorOf(raw, v, breakdown.floors) : undefined))
  medians.push(
    `| floor: raw 2PC + requests × TM round trip + one fsync | ${vs.map((v, i) => tm(v, floors[i] === undefined ? 'n/a' : `${floors[i].toFixed(2)}`)).join(' | ')} |`,
  )
  medians.push(
    `| untraced p50 above the floor | ${vs.map((v, i) => tm(v, floors[i] === undefined || !v.untraced ? 'n/a' : `${(v.untraced.p50 - floors[i]).toFixed(2)} (${(v.untraced.p50 / floors[i]).toFixed(2)}× the floor)`)).join(' | ')} |`,
  )
  medians.push(`| transfers (left out) | ${vs.map((v) => `${v.transfers} (${v.leftOut})`).join(' | ')} |`)

  const means = [head, rule]
  const cell = (v: VariantBreakdown, value: number, rawValue: number | undefined): string => {
    if (v.variant === 'raw-2pc' || rawValue === undefined) return value.toFixed(2)
    const d = value - rawValue
    return `${value.toFixed(2)} (${d >= 0 ? '+' : '−'}${Math.abs(d).toFixed(2)})`
  }
  for (const p of PHASES) means.push(`| ${PHASE_LABEL[p]} | ${vs.map((v) => cell(v, v.phases[p].mean, raw?.phases[p].mean)).join(' | ')} |`)
  means.push(`| **total, traced** | ${vs.map((v) => `**${cell(v, v.total.mean, raw?.total.mean)}**`).join(' | ')} |`)
  const tmVariants = vs.filter((v) => v.variant !== 'raw-2pc')
  const names = [...new Set(tmVariants.flatMap((v) => v.tmSpans.map((t) => t.name)))].sort((a, b) => spanOrder(a) - spanOrder(b) || a.localeCompare(b))
  const tmSpans = [`| TM span | ${tmVariants.map((v) => v.label).join(' | ')} |`, `|---|${tmVariants.map(() => '---:').join('|')}|`]
  for (const name of names) {
    const cells = tmVariants.map((v) => {
      const t = v.tmSpans.find((x) => x.name === name)
      if (!t) return '—'
      const own = t.lead === undefined ? '' : `; own ${(t.lead ?? 0).toFixed(2)} + ${(t.between ?? 0).toFixed(2)} + ${(t.tail ?? 0).toFixed(2)}`
      return `${t.ms.p50.toFixed(2)} (${t.perTransfer.toFixed(1)}×${own})`
    })
    tmSpans.push(`| \`${name}\` | ${cells.join(' | ')} |`)
  }
  const stepName: Record<DbStep, [string, [string, string]]> = {
    begin: ['branch begin', ['BEGIN', 'XA START']],
    statement: ['one statement', ['UPDATE or INSERT', 'UPDATE or INSERT']],
    prepare: ['branch prepare', ['PREPARE TRANSACTION', 'XA END + XA PREPARE']],
    commit: ['branch commit', ['COMMIT PREPARED', 'XA COMMIT']],
  }
  const dbName: Record<string, string> = { pg: 'PostgreSQL', mysql: 'MariaDB' }
  const steps = [
    `| one database step, p50 (p90) | ${vs.map((v) => `${v.label}: ${v.variant === 'raw-2pc' || v.variant === 'tm-enlist' ? 'the application\'s connection' : 'the TM'}`).join(' | ')} |`,
    rule,
  ]
  for (const step of DB_STEPS) {
    for (const db of ['pg', 'mysql']) {
      const cells = vs.map((v) => {
        const st = v.dbSteps[dbStepKey(step, db)]
        return st ? mp(st) : '—'
      })
      if (cells.every((c) => c === '—')) continue
      const [what, sql] = stepName[step]
      steps.push(`| ${what}, ${dbName[db]} (${db === 'pg' ? sql[0] : sql[1]}) | ${cells.join(' | ')} |`)
    }
  }
  return { medians: medians.join('\n'), means: means.join('\n'), tmSpans: tmSpans.join('\n'), dbSteps: steps.join('\n') }
}

/** Requests first (as a transfer sends them), then the steps in protocol order. */
function spanOrder(name: string): number {
  const order = ['Begin', 'Enlist', 'Execute', 'ExecuteBatch', 'Run', 'Commit', 'CompleteLocalBranches', 'GetTransaction', 'Rollback']
  const method = name.startsWith('arbiter.v1.TransactionManager/') ? order.indexOf(name.slice('arbiter.v1.TransactionManager/'.length)) : -1
  if (method >= 0) return method
  const steps = ['arbiter.begin_branch', 'arbiter.statement', 'arbiter.prepare', 'arbiter.decision.write', 'arbiter.commit_branch']
  return 100 + (steps.includes(name) ? steps.indexOf(name) : steps.length)
}

/** The breakdown's section, when it ran. */
export function breakdownSection(result: BenchResult): string[] {
  const b = result.breakdown
  if (!b) return []
  const f = b.floors
  const { medians, means, tmSpans, dbSteps } = breakdownTables(b)
  const rt = f.tmRoundTripPhases
  return [
    '## Where the time goes: one transfer at a time, phase by phase (issue #24)',
    '',
    `Concurrency 1, ${b.transfersPerVariant} traced transfers per variant and as many untraced ones, in ${b.rounds} round(s) in shuffled order ` +
      `after ${b.warmupPerVariant} of each to warm up. Cut from traces: the TM's spans (OTLP/HTTP JSON, exported at its stop), the client ` +
      "library's and the bench's (a span per transfer, the start and end of each query on the application's connections), and the instants the client's gRPC " +
      'hands each request to the channel and receives its answer; every instant of a transfer counts in one phase, the most specific one ' +
      '(`bench/breakdown-phases.ts`). Parallel branches count once (the longer). Milliseconds.',
    '',
    '### Medians (p90)',
    '',
    'Medians of each phase do not add up to the median total; the means below do.',
    '',
    medians,
    '',
    '### Means, and what each Arbiter variant adds to raw 2PC (in brackets)',
    '',
    means,
    '',
    '### The TM\'s spans, medians',
    '',
    'Per span: its median duration (how many per transfer). A request\'s *own* time is what it spends outside its steps: before the ' +
      'first, between them, after the last (medians of each; the *TM, other* phase above).',
    '',
    tmSpans,
    '',
    '### One database step, on the application\'s connection and in the TM',
    '',
    'The same SQL on the same servers: raw 2PC and local branches run it on the bench\'s own connections (timed around the driver\'s ' +
      'query), one-shot and through the TM in the TM (its spans). Statements: per statement; the others: per branch.',
    '',
    dbSteps,
    '',
    '### Floors, measured in the same part',
    '',
    `- a request-answer to the TM that does nothing (GetTransaction of an unknown transaction, untraced): p50 ${f.tmRoundTrip.p50.toFixed(3)} ms, p90 ${f.tmRoundTrip.p90.toFixed(3)}` +
      (rt ? `; traced, its hop out ${rt.toTm.toFixed(3)}, in the TM ${rt.inTm.toFixed(3)}, its answer ${rt.answer.toFixed(3)} (medians)` : ''),
    ...(f.tmRoundTripAfterIdle
      ? [
          `- the same request traced, each after both processes idled 2 ms (as between one transfer's requests): p50 ${f.tmRoundTripAfterIdle.total.p50.toFixed(3)} ms` +
            (f.tmRoundTripAfterIdle.phases
              ? `; its hop out ${f.tmRoundTripAfterIdle.phases.toTm.toFixed(3)}, in the TM ${f.tmRoundTripAfterIdle.phases.inTm.toFixed(3)}, its answer ${f.tmRoundTripAfterIdle.phases.answer.toFixed(3)}`
              : ''),
        ]
      : []),
    `- one decision-log write + fsync alone (\`FileDecisionLog\`, one writer, one fsync per decision): ${f.fsyncMs === undefined ? 'n/a' : `${f.fsyncMs.toFixed(3)} ms`}`,
    `- a query that does nothing (\`SELECT 1\`) on the bench's connections: PostgreSQL p50 ${f.pgRoundTrip.p50.toFixed(3)} ms, MariaDB p50 ${f.mysqlRoundTrip.p50.toFixed(3)} ms`,
    ...b.notes.map((n) => `- ${n}`),
    ...(b.variants.some((v) => v.clockOverhangs > 0)
      ? [`- clock check: ${b.variants.map((v) => `${v.label} ${v.clockOverhangs}`).join(', ')} transfer(s) had a TM span overhang its request's send…receive by more than 0.05 ms`]
      : ['- clock check: every TM request span lay within the client\'s send…receive of its request']),
    '',
  ]
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
          `- load: closed loop, ${s.concurrencies.join(' / ')} transfers in flight; per concurrency a ${s.warmupSeconds} s warm-up of every variant${jitText(s.jitWarmupSeconds)}, then ${s.rounds} round(s) of ${s.roundSeconds} s per variant in shuffled order; ${s.accountsPerBank.toLocaleString('en-US')} accounts per database`,
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
      'Ratios are to raw 2PC at the same concurrency, measured in the same run: the ratio of the totals, and in brackets the lowest and ' +
      'highest of the rounds\' own ratios (a round runs every variant once, in shuffled order).',
    '',
    ...(chart ? [`![throughput and p99 by concurrency; decision-log micro-benchmark](${chart})`, ''] : []),
    ...(result.cells.length
      ? [
          resultsTable(result),
          '',
          '## Targets (issue #24)',
          '',
          'Each figure of the totals, with the lowest and highest of its rounds in brackets (every round runs every variant, so a round\'s ' +
            'ratio is of two windows minutes apart at most). *yes*: every round met the goal; *within noise*: some rounds did and some did ' +
            'not; *no*: none did.',
          '',
          targetsTable(result),
          '',
        ]
      : []),
    ...baselineSection(result),
    ...clusterSection(result),
    ...breakdownSection(result),
    ...(result.logBench.length ? ['## Decision log: group commit versus one fsync per decision', '', logBenchTable(result), ''] : []),
    '## Run',
    '',
    environmentList(result),
    '',
  ]
  return parts.join('\n')
}
