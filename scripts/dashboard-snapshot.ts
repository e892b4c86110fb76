// `npm run dashboard:snapshot`: the picture of the Grafana dashboard in
// docs/operations.md (docs/images/dashboard.svg), from a real run. The setup
// of test/integration/observability/dashboard.test.ts (live-cluster.ts): two
// Arbiter nodes on a shared PostgreSQL store under bank load, throwaway
// PostgreSQL and MariaDB servers from the test harness, and Debian's
// Prometheus scraping both every second. Along the run, the test's faults,
// spaced out so the picture shows each: an application holds a prepared
// MariaDB branch (recovery fails on it until it lets go), then one node is
// paused past its lease (the other takes it over, it loses its lease and
// rejoins). Then every panel query of deploy/grafana/arbiter.json, with node
// = All, goes through /api/v1/query_range over the run, and
// scripts/dashboard-svg.ts draws the result. No Grafana is involved: the
// picture is our drawing of the dashboard's own queries on real data.
//
//   npm run dashboard:snapshot -- [--seconds 90] [--out docs/images/dashboard.svg]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { ensureServers } from '../test/harness/ensure-servers.js'
import { mariadbFromEnvOrStart, postgresFromEnvOrStart, type TestServer } from '../test/harness/index.js'
import { killClient, preparingClient } from '../test/helpers/preparing-client.js'
import { resolveDashboardVariables, startLiveCluster, type LiveCluster } from '../test/integration/observability/live-cluster.js'
import { DASHBOARD_FILE, REPO, whyNoPrometheusTools } from '../test/integration/observability/observability-files.js'
import { renderDashboardSvg, type Panel, type Series } from './dashboard-svg.js'

const { values: args } = parseArgs({
  options: { seconds: { type: 'string', default: '90' }, out: { type: 'string', default: 'docs/images/dashboard.svg' } },
})
const SECONDS = Math.max(60, Number(args.seconds))
const OUT = resolve(REPO, args.out)
const NODES = ['node-a', 'node-b'] as const
const SCRAPE_S = 1
/** Grafana's $__rate_interval: max($__interval + scrape interval, 4 × scrape interval), with $__interval = the step. */
const STEP_S = SCRAPE_S
const RATE_INTERVAL = `${Math.max(STEP_S + SCRAPE_S, 4 * SCRAPE_S)}s`
/** The application holding a MariaDB branch uses an account of its own (the workers use 1 to 6). */
const STUCK_APP_ACCOUNT = 900

type DashboardPanel = Panel & { targets?: { expr: string; legendFormat?: string }[]; panels?: DashboardPanel[] }
interface DashboardJson {
  title: string
  panels: DashboardPanel[]
  annotations: { list: { expr?: string; titleFormat?: string; textFormat?: string }[] }
}

const say = (line: string): void => void process.stdout.write(`${line}\n`)
const clock = (t: number): string => new Date(t * 1000).toISOString().slice(11, 19)
/** Grafana's legend: {{label}} replaced by the series' label value; an empty format names the series by its labels. */
const legendOf = (format: string, metric: Record<string, string>): string =>
  format !== ''
    ? format.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, label: string) => metric[label] ?? '')
    : `{${Object.entries(metric)
        .map(([k, v]) => `${k}="${v}"`)
        .join(', ')}}`

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s`)
    await sleep(200)
  }
}

/** Sleeps until `at` (Unix seconds). */
const until = (at: number): Promise<void> => sleep(Math.max(0, at * 1000 - Date.now()))

/** The faults, placed along the SECONDS from t0 on; returns the run's events, for the caption. */
async function runScenario(cluster: LiveCluster, t0: number): Promise<string[]> {
  const [a, b] = cluster.nodes
  const events: string[] = []

  // An application prepares its own branches on A and hangs before its Commit; past its deadline A rolls the
  // transaction back, but MariaDB refuses to roll back a branch still attached to the application's connection.
  // Its process takes a few seconds to start and prepare.
  await until(t0 + SECONDS * 0.1)
  const stuck = await preparingClient({ address: a.address, dbs: cluster.dbs, id: STUCK_APP_ACCOUNT, mode: 'hang', timeoutMs: 2000 })
  const held = Date.now() / 1000
  say(`${clock(held)} an application holds a prepared MariaDB branch on ${NODES[0]}`)
  try {
    await until(t0 + SECONDS * 0.4)
  } finally {
    await killClient(stuck.child)
  }
  const released = Date.now() / 1000
  await waitFor('the held branch rolled back', async () => (await cluster.dbs.preparedLeft(a.config.nodeId!)).mysql.length === 0)
  say(`${clock(released)} the application is gone; recovery rolls its branch back`)
  events.push(`${clock(held)}–${clock(released)} an application holds a prepared MariaDB branch on ${NODES[0]} (recovery fails on it every pass)`)

  // B stops (a long GC pause, a frozen VM) past its lease: A takes it over; B, resumed, finds its lease lost and rejoins.
  await until(t0 + SECONDS * 0.55)
  const paused = Date.now() / 1000
  b.pause()
  try {
    await waitFor(`${NODES[0]} takes ${NODES[1]} over`, async () => ((await a.metric('arbiter_cluster_takeovers_total')) ?? 0) >= 1)
  } finally {
    b.resume()
  }
  await waitFor(`${NODES[1]} loses its lease`, async () => ((await b.metric('arbiter_cluster_leases_lost_total')) ?? 0) >= 1)
  say(`${clock(paused)} ${NODES[1]} paused past its lease: ${NODES[0]} took it over, ${NODES[1]} lost its lease and rejoined`)
  events.push(`${clock(paused)} ${NODES[1]} paused past its lease: ${NODES[0]} takes it over, ${NODES[1]} loses its lease and rejoins`)
  await until(t0 + SECONDS)
  return events
}

/** Every panel's series over [start, end]: each target's query, the variables resolved as Grafana would with node = All. */
async function panelData(cluster: LiveCluster, d: DashboardJson, start: number, end: number): Promise<{ panel: Panel; series: Series[] }[]> {
  const { substitute } = await resolveDashboardVariables(cluster.prometheus, start, end, RATE_INTERVAL)
  const out: { panel: Panel; series: Series[] }[] = []
  for (const panel of d.panels.flatMap((p) => [p, ...(p.panels ?? [])])) {
    const series: Series[] = []
    for (const target of panel.targets ?? []) {
      const range = await cluster.prometheus.queryRange(substitute(target.expr), start, end, STEP_S)
      if (range.status !== 'success') throw new Error(`${panel.title}: ${range.errorType} ${range.error}`)
      const found = range.data.result.map((s) => ({ name: legendOf(target.legendFormat ?? '', s.metric), samples: s.values.map(([t, v]) => [t, Number(v)] as const) }))
      series.push(...found.sort((x, y) => x.name.localeCompare(y.name)))
    }
    out.push({ panel, series })
  }
  return out
}

/** The dashboard's annotation query (firing Arbiter alerts) as [start, end] runs per alert series. */
async function firingAlerts(cluster: LiveCluster, d: DashboardJson, start: number, end: number): Promise<{ start: number; end: number; label: string }[]> {
  const annotation = d.annotations.list.find((a) => a.expr !== undefined)
  if (!annotation) return []
  const range = await cluster.prometheus.queryRange(annotation.expr!, start, end, STEP_S)
  return range.data.result.flatMap((s) => {
    const label = `${legendOf(annotation.titleFormat ?? '{{alertname}}', s.metric)} ${s.metric.node ?? ''}`.trim()
    const runs: { start: number; end: number; label: string }[] = []
    for (const [t] of s.values) {
      const last = runs.at(-1)
      if (last && t - last.end <= 1.5 * STEP_S) last.end = t
      else runs.push({ start: t, end: t, label })
    }
    return runs
  })
}

async function main(): Promise<number> {
  const why = whyNoPrometheusTools()
  if (why !== undefined) {
    process.stderr.write(`dashboard:snapshot needs a real Prometheus: ${why}\n`)
    return 1
  }
  const ready = ensureServers({ who: 'the dashboard snapshot', rerun: 'npm run dashboard:snapshot' })
  if (ready !== 0) return ready
  const began = Date.now()
  const servers: TestServer[] = []
  let cluster: LiveCluster | undefined
  try {
    const started = await Promise.allSettled([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])
    for (const s of started) if (s.status === 'fulfilled') servers.push(s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    cluster = await startLiveCluster({ pgUrl: servers[0]!.url, mysqlUrl: servers[1]!.url }, { prefix: 'snapshot', nodeIds: NODES, scrapeInterval: `${SCRAPE_S}s` })
    // The picture starts with Prometheus (ready when startLiveCluster returns) and ends under load.
    const start = Date.now() / 1000
    say(`${clock(start)} two nodes under load, Prometheus scraping them every ${SCRAPE_S} s; ${SECONDS} s of it`)
    const events = await runScenario(cluster, start)
    const end = Date.now() / 1000
    // Let Prometheus scrape past the end, then stop the workers.
    await sleep(2500)
    await cluster.stopLoad()
    say(`load: ${JSON.stringify(cluster.outcomes)}`)

    const d = JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as DashboardJson
    const panels = await panelData(cluster, d, start, end)
    const alerts = await firingAlerts(cluster, d, start, end)
    const date = new Date(start * 1000).toISOString().slice(0, 10)
    const svg = renderDashboardSvg({
      title: `${d.title} — ${relative(REPO, DASHBOARD_FILE)}, node = All, ${date} ${clock(start)}–${clock(end)} UTC`,
      caption: [
        `Not a Grafana screenshot: drawn by scripts/dashboard-snapshot.ts (npm run dashboard:snapshot) on ${date} from each panel's own PromQL, run through a real`,
        `Prometheus (query_range in ${STEP_S} s steps, $__rate_interval ${RATE_INTERVAL}, scrapes every ${SCRAPE_S} s) over a ${Math.round(end - start)} s run: two Arbiter nodes on a shared PostgreSQL store,`,
        `6 bank workers on every commit path (rollbacks and failing statements among them). Red bands: firing Arbiter alerts (the dashboard's annotation). During the run:`,
        ...events.map((e) => `  • ${e}`),
      ],
      start,
      end,
      step: STEP_S,
      panels,
      alerts,
    })
    mkdirSync(dirname(OUT), { recursive: true })
    writeFileSync(OUT, svg)
    const shown = panels.filter((p) => p.panel.type !== 'row')
    const empty = shown.filter((p) => p.series.length === 0).map((p) => p.panel.title)
    say(`${relative(REPO, OUT)}: ${shown.length} panels${empty.length > 0 ? ` (no data: ${empty.join(', ')})` : ''}, ${alerts.length} alert runs; ${((Date.now() - began) / 1000).toFixed(0)} s in all`)
    return 0
  } catch (error) {
    process.stderr.write(`dashboard:snapshot failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`)
    return 1
  } finally {
    await cluster?.close()
    await Promise.allSettled(servers.map((s) => s.destroy()))
  }
}

process.exitCode = await main()
