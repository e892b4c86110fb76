// deploy/grafana/arbiter.json and deploy/prometheus/arbiter-rules.yml
// against a live Prometheus (issue #25): two TM nodes on a shared PostgreSQL
// store under load (two-phase, one-phase, read-only, rolled back, failing
// statements, on Session streams and unary calls), one node paused past its
// lease so the other takes it over and it loses its lease, and an
// application whose MariaDB branch recovery cannot roll back while the
// application's connection holds it (recovery failures). Debian's
// prometheus scrapes both every second with deploy/prometheus/prometheus.yml
// (only targets and intervals replaced) and evaluates the rules: the setup
// is live-cluster.ts, shared with scripts/dashboard-snapshot.ts. Then every
// query of the dashboard, with its variables resolved as Grafana would,
// must parse and return data over the run, every alert expression must parse
// and read only series the nodes exposed, every rule must evaluate cleanly,
// and the takeover and the lost lease must fire their alerts.
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { killClient, preparingClient } from '../../helpers/preparing-client.js'
import { resolveDashboardVariables, startLiveCluster, type LiveCluster } from './live-cluster.js'
import { alertRules, dashboard, dashboardQueries, exportedSeries, IN_CI, seriesNames, whyNoPrometheusTools } from './observability-files.js'

const why = whyNoPrometheusTools()
/** What Grafana would put for $__rate_interval and $__interval with a 1 s scrape interval (at least 4 scrapes). */
const RATE_INTERVAL = '5s'
/** The account of the application whose MariaDB branch recovery cannot finish (the workers use 1 to 2 × WORKERS_PER_NODE, live-cluster.ts). */
const STUCK_APP_ACCOUNT = 900

/**
 * Dashboard queries ("panel [legend]") allowed to return no data here, and
 * why. None now: every query has data, the cluster, takeover and recovery
 * failure panels included (the faults below make them move); outcome="unknown"
 * is exported at 0 from the first scrape.
 */
const MAY_BE_EMPTY: Record<string, string> = {}

describe('the static files', () => {
  it('the dashboard: schemaVersion 39, a Prometheus datasource variable, node and instance variables for a cluster', () => {
    const d = dashboard()
    expect(d.schemaVersion).toBe(39)
    const vars = Object.fromEntries(d.templating.list.map((v) => [v.name, v]))
    expect(vars.datasource).toMatchObject({ type: 'datasource', query: 'prometheus' })
    expect(vars.node).toMatchObject({ type: 'query', definition: 'label_values(arbiter_node_info, node)', multi: true, includeAll: true })
    expect(vars.instance).toMatchObject({ type: 'query', definition: 'label_values(arbiter_node_info{node=~"$node"}, instance)' })
    const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row')
    for (const p of panels) {
      expect(p.datasource?.uid, p.title).toBe('${datasource}')
      for (const t of p.targets ?? []) expect(t.datasource?.uid, p.title).toBe('${datasource}')
    }
  })

  it('every dashboard query reads only series Arbiter exports, filters on $instance, and the dashboard shows every series but the per-caller ones', () => {
    const exported = exportedSeries()
    const queries = dashboardQueries()
    const unknown = queries.flatMap((q) => seriesNames(q.expr).filter((n) => !exported.has(n) && n !== 'ALERTS').map((n) => `${q.panel}: ${n}`))
    expect(unknown).toEqual([])
    const unfiltered = queries.filter((q) => !q.expr.includes('ALERTS') && !q.expr.includes('instance=~"$instance"')).map((q) => q.panel)
    expect(unfiltered).toEqual([])
    const shown = new Set(queries.flatMap((q) => seriesNames(q.expr)).map((n) => n.replace(/_(bucket|sum|count)$/, '')))
    // arbiter_caller_* exist only with auth.tokens (a dashboard of its own, per caller); grpc_server_handling_seconds is shown.
    const notShown = [...exported].filter((n) => !/_(bucket|sum|count)$/.test(n) && !shown.has(n) && !n.startsWith('arbiter_caller_'))
    expect(notShown).toEqual([])
  })
})

describe.skipIf(why !== undefined && !IN_CI)(`a live Prometheus scraping two nodes under load${why === undefined ? '' : `: skipped, ${why}`}`, () => {
  let cluster: LiveCluster | undefined
  let stuckApp: Awaited<ReturnType<typeof preparingClient>> | undefined
  /** The recovery-failure fault, run beside the takeover: resolves with its error, if any (never rejects). */
  let recoveryFailed: Promise<Error | undefined> = Promise.resolve(undefined)

  beforeAll(async () => {
    if (why !== undefined) throw new Error(`${why} (CI installs it: see .ci/run)`)
    cluster = await startLiveCluster(sharedServerUrls(), { prefix: 'dashboard' })
  })

  afterAll(async () => {
    if (!cluster) return
    await cluster.stopLoad()
    await recoveryFailed
    // The MariaDB server is shared: once its application is gone, let A's recovery roll the branch back before A goes.
    if (stuckApp) {
      await killClient(stuckApp.child)
      const nodeId = cluster.nodes[0].config.nodeId!
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline && (await cluster.dbs.preparedLeft(nodeId)).mysql.length > 0) await sleep(200)
    }
    await cluster.close()
  })

  it('under load, a node paused past its lease is taken over and loses its lease, and recovery fails on a branch an application holds; then every query and rule checks out', async () => {
    const { dbs, nodes, prometheus, startedAt, outcomes } = cluster!
    const [a, b] = nodes
    const promQuery = (query: string) => prometheus.query(query)
    const hasData = async (query: string) => ((await promQuery(query)).data?.result.length ?? 0) > 0

    // Recovery that fails, alongside the rest: an application prepares its own branches on A (pg and maria) and hangs
    // before its Commit. Past its deadline A rolls the transaction back, and recovery rolls back the PostgreSQL branch,
    // but MariaDB answers XAER_NOTA for a branch still attached to the application's live connection: every pass
    // fails (arbiter_recovery_failures_total{resource="maria", action="rollback"}) until that connection ends.
    recoveryFailed = (async () => {
      stuckApp = await preparingClient({ address: a.address, dbs, id: STUCK_APP_ACCOUNT, mode: 'hang', timeoutMs: 2000 })
      const failures = 'arbiter_recovery_failures_total{resource="maria", action="rollback"} > 1'
      await expect.poll(async () => (await promQuery(failures)).data.result.length, { timeout: 20_000, interval: 500 }).toBe(1)
      // ArbiterRecoveryFailing matches the real series: pending (it fires after 10 minutes of it).
      const pending = `ALERTS{alertname="ArbiterRecoveryFailing", alertstate="pending", node="${a.config.nodeId}", resource="maria", action="rollback"}`
      await expect.poll(() => hasData(pending), { timeout: 10_000, interval: 500 }).toBe(true)
      await killClient(stuckApp.child)
      // Detached, the branch is rolled back by A's next pass.
      await expect.poll(() => dbs.preparedLeft(a.config.nodeId!), { timeout: 10_000, interval: 200 }).toEqual({ pg: [], mysql: [] })
    })().then(
      () => undefined,
      (error: unknown) => (error instanceof Error ? error : new Error(String(error))),
    )

    // Load until Prometheus has scraped both nodes' commits a few times.
    await expect.poll(async () => (await promQuery('arbiter_transactions_finished_total{outcome="committed", path="two-phase"} > 20')).data.result.length, { timeout: 20_000, interval: 500 }).toBeGreaterThanOrEqual(2)

    // B stops (a long GC pause, a frozen VM) for longer than its lease: A takes it over; B, resumed, finds its lease lost
    // and rejoins. B stays paused until A has taken it over (a lease and a takeover interval), however slow this machine is.
    b.pause()
    try {
      await expect.poll(() => a.metric('arbiter_cluster_takeovers_total'), { timeout: 20_000, interval: 200 }).toBeGreaterThanOrEqual(1)
    } finally {
      b.resume()
    }
    await expect.poll(() => b.metric('arbiter_cluster_leases_lost_total'), { timeout: 15_000, interval: 200 }).toBeGreaterThanOrEqual(1)

    // The alerts for both fire from the real series (neither has a `for`).
    const firing = async (): Promise<string[]> =>
      (await promQuery('ALERTS{alertstate="firing", alertname=~"ArbiterTakeover|ArbiterLeaseLost"}')).data.result.map((s) => `${s.metric.alertname} ${s.metric.node}`)
    await expect.poll(firing, { timeout: 15_000, interval: 500 }).toEqual(
      expect.arrayContaining([`ArbiterTakeover ${a.config.nodeId}`, `ArbiterLeaseLost ${b.config.nodeId}`]),
    )
    const recoveryProblem = await recoveryFailed
    if (recoveryProblem !== undefined) throw recoveryProblem
    // Some load after the faults, scraped, then stop it: the range queries below cover the whole run.
    await sleep(3000)
    await cluster!.stopLoad()
    await sleep(1500)
    const end = Date.now() / 1000
    const recoveryFailures = await a.metric('arbiter_recovery_failures_total{resource="maria",action="rollback"}')
    console.log(`load: ${JSON.stringify(outcomes)}; ${recoveryFailures} recovery failures on A; ${(end - startedAt).toFixed(1)} s of metrics`)
    expect(outcomes['two-phase']).toBeGreaterThan(20)

    // The variables, as Grafana resolves them: label_values(arbiter_node_info, node), then instance for those nodes.
    // A multi-value variable in a regex matcher: Grafana escapes each value and joins them with | (resolveDashboardVariables).
    const { nodeIds, instances, substitute } = await resolveDashboardVariables(prometheus, startedAt, end, RATE_INTERVAL)
    expect(nodeIds).toEqual([a.config.nodeId, b.config.nodeId].sort())
    expect(instances).toEqual(nodes.map((n) => n.metricsAddress()).sort())

    // Every dashboard query: parses (instant query) and has data over the run (range query, as a panel asks).
    const problems: string[] = []
    const queries = dashboardQueries()
    for (const q of queries) {
      const expr = substitute(q.expr)
      const where = `${q.panel}${q.legend ? ` [${q.legend}]` : ''}: ${expr}`
      if (expr.includes('$')) {
        problems.push(`${where}: a variable the test does not know`)
        continue
      }
      const instant = await promQuery(expr)
      if (instant.status !== 'success') {
        problems.push(`${where}: ${instant.errorType} ${instant.error}`)
        continue
      }
      const range = await prometheus.queryRange(expr, startedAt, end, 1)
      const points = range.data?.result.flatMap((s) => s.values).filter(([, v]) => !Number.isNaN(Number(v))).length ?? 0
      if (range.status !== 'success') problems.push(`${where}: ${range.errorType} ${range.error}`)
      else if (points === 0 && MAY_BE_EMPTY[`${q.panel} [${q.legend}]`] === undefined) problems.push(`${where}: no data over the run`)
    }
    expect(problems).toEqual([])

    // Every alert expression parses, and every series it reads was scraped from the nodes.
    const exported = exportedSeries()
    for (const rule of alertRules()) {
      const result = await promQuery(rule.expr)
      if (result.status !== 'success') problems.push(`${rule.alert}: ${result.errorType} ${result.error}`)
      for (const name of seriesNames(rule.expr)) {
        if (!exported.has(name) && name !== 'up') problems.push(`${rule.alert}: ${name} is not a series Arbiter exports`)
        else if (!(await hasData(`max_over_time(${name}[${Math.ceil(end - startedAt)}s])`))) problems.push(`${rule.alert}: no ${name} was scraped`)
      }
    }
    expect(problems).toEqual([])

    // Prometheus itself loaded and evaluated every rule without an error.
    const rules = await prometheus.api<{ groups: { rules: { name: string; health: string; lastError?: string }[] }[] }>('/api/v1/rules')
    const loaded = rules.data.groups.flatMap((g) => g.rules)
    expect(loaded.map((r) => r.name).sort()).toEqual(alertRules().map((r) => r.alert).sort())
    expect(loaded.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError ?? ''}`)).toEqual([])
  })
})
