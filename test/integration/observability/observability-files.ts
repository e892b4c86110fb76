// What the observability tests share: the files under deploy/ (alert rules,
// their promtool tests, the Prometheus config, the Grafana dashboard), the
// series the server really exports, and whether Debian's `prometheus`
// package (prometheus and promtool) is installed.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

export const REPO = fileURLToPath(new URL('../../..', import.meta.url))
export const RULES_FILE = join(REPO, 'deploy/prometheus/arbiter-rules.yml')
export const RULES_TEST_FILE = join(REPO, 'deploy/prometheus/arbiter-rules.test.yml')
export const PROMETHEUS_CONFIG = join(REPO, 'deploy/prometheus/prometheus.yml')
export const DASHBOARD_FILE = join(REPO, 'deploy/grafana/arbiter.json')

/**
 * Why the Prometheus tools cannot run here, or undefined when they can.
 * CI (CI=true) installs Debian's `prometheus` package, so there a missing
 * tool fails the test (`requirePrometheusTools`); elsewhere it skips with this reason.
 */
export function whyNoPrometheusTools(): string | undefined {
  const missing = ['prometheus', 'promtool'].filter((tool) => spawnSync(tool, ['--version'], { stdio: 'ignore' }).status !== 0)
  if (missing.length === 0) return undefined
  return `${missing.join(' and ')} not installed: install Debian's prometheus package (apt-get install -y --no-install-recommends prometheus)`
}

/** True in CI, where every tool a test needs is installed and a missing one is a failure. */
export const IN_CI = (process.env.CI ?? '') !== '' && process.env.CI !== 'false'

export interface AlertRule {
  readonly alert: string
  readonly expr: string
  readonly for?: string
  readonly labels?: Record<string, string>
  readonly annotations?: Record<string, string>
}

export function alertRules(): AlertRule[] {
  const file = parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] }
  return file.groups.flatMap((g) => g.rules)
}

export interface DashboardQuery {
  readonly panel: string
  readonly legend: string
  readonly expr: string
}

interface Panel {
  type: string
  title: string
  datasource?: { type: string; uid: string }
  targets?: { expr: string; legendFormat?: string; datasource?: { uid: string } }[]
  panels?: Panel[]
}

export interface Dashboard {
  schemaVersion: number
  uid: string
  title: string
  panels: Panel[]
  templating: { list: { type: string; name: string; query: string | { query: string }; definition?: string; multi?: boolean; includeAll?: boolean }[] }
  annotations: { list: { name: string; expr?: string; datasource?: { uid: string } }[] }
}

export function dashboard(): Dashboard {
  return JSON.parse(readFileSync(DASHBOARD_FILE, 'utf8')) as Dashboard
}

/** Every panel's query (rows' nested panels included) and every annotation query. */
export function dashboardQueries(d: Dashboard = dashboard()): DashboardQuery[] {
  const panels = d.panels.flatMap((p) => [p, ...(p.panels ?? [])])
  return [
    ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, legend: t.legendFormat ?? '', expr: t.expr }))),
    ...d.annotations.list.filter((a) => a.expr !== undefined).map((a) => ({ panel: `annotation "${a.name}"`, legend: '', expr: a.expr! })),
  ]
}

/** Series names a PromQL expression reads (not functions, keywords, label names or values). */
export function seriesNames(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // label values
    .replace(/\{[^}]*\}/g, '{}') // label matchers
    .replace(/\[[^\]]*\]/g, '[]') // ranges and subqueries
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
  const keywords = new Set(['and', 'or', 'unless', 'offset', 'bool', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right'])
  const names = new Set<string>()
  for (const m of bare.matchAll(/(?<![\w.$])([a-zA-Z_:][\w:]*)(?![\w:]|\s*\()/g)) {
    if (!keywords.has(m[1]!)) names.add(m[1]!)
  }
  return [...names]
}

/** The series the server exports (server/metrics/*.ts); histograms with their _bucket, _sum and _count. */
export function exportedSeries(): Set<string> {
  const dir = join(REPO, 'server/metrics')
  const text = readdirSync(dir)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => readFileSync(join(dir, f), 'utf8'))
    .join('\n')
  const out = new Set<string>()
  // new Counter({ name: '…' }), new Gauge(…), new Histogram(…), and the txGauge('…') / resourceGauge('…') helpers.
  for (const m of text.matchAll(/(?:name:\s*|Gauge\(\s*)'((?:arbiter|grpc)_[a-z0-9_]+)'/g)) out.add(m[1]!)
  for (const m of text.matchAll(/new Histogram\(\{\s*name:\s*'([a-z0-9_]+)'/g)) {
    for (const suffix of ['_bucket', '_sum', '_count']) out.add(m[1]! + suffix)
  }
  return out
}
