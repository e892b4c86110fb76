// deploy/prometheus/arbiter-rules.yml (issue #25): promtool accepts the
// rules and the example config, and its unit tests (arbiter-rules.test.yml)
// pass, with a firing and a not-firing case for every alert. Without
// promtool the static checks still run: every rule reads only series the
// server exports, and says what to do (severity, summary, a runbook line
// naming an `arbiter admin` command that exists). dashboard.test.ts
// evaluates every expression against a live Prometheus.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it, type TestContext } from 'vitest'
import { parse as parseYaml } from 'yaml'
import {
  alertRules,
  exportedSeries,
  IN_CI,
  PROMETHEUS_CONFIG,
  REPO,
  RULES_FILE,
  RULES_TEST_FILE,
  seriesNames,
  whyNoPrometheusTools,
} from './observability-files.js'

const why = whyNoPrometheusTools()

/** Skips outside CI when promtool is missing, saying why; in CI (which installs it) that is a failure. */
function needPromtool(ctx: TestContext): void {
  if (why === undefined) return
  if (IN_CI) throw new Error(`${why} (CI installs it: see .ci/run)`)
  ctx.skip(why)
}

function promtool(...args: string[]): { status: number | null; output: string } {
  const r = spawnSync('promtool', args, { cwd: join(REPO, 'deploy/prometheus'), encoding: 'utf8', timeout: 30_000 })
  return { status: r.status, output: `${r.stdout}${r.stderr}` }
}

/** The `arbiter admin` subcommands the CLI defines. */
function adminCommands(): string[] {
  const cli = readFileSync(join(REPO, 'server/cli/admin-command.ts'), 'utf8')
  return [...cli.matchAll(/\.command\('([a-z-]+)'\)/g)].map((m) => m[1]!).filter((c) => c !== 'admin')
}

describe('Prometheus alert rules (deploy/prometheus/arbiter-rules.yml)', () => {
  const rules = alertRules()

  it('every rule reads only series Arbiter exports (server/metrics/*.ts) or Prometheus makes (up)', () => {
    const exported = exportedSeries()
    const unknown = rules.flatMap((r) => seriesNames(r.expr).filter((n) => !exported.has(n) && n !== 'up').map((n) => `${r.alert}: ${n}`))
    expect(unknown).toEqual([])
    expect(rules.every((r) => seriesNames(r.expr).length > 0)).toBe(true)
  })

  it('every rule has a severity, a summary and a runbook line naming an arbiter admin command that exists', () => {
    const commands = adminCommands()
    expect(commands).toEqual(expect.arrayContaining(['transactions', 'show', 'in-doubt', 'recover', 'resolve', 'resources', 'nodes']))
    for (const rule of rules) {
      expect(['critical', 'warning'], rule.alert).toContain(rule.labels?.severity)
      expect(rule.annotations?.summary, rule.alert).toMatch(/\S/)
      const named = [...(rule.annotations?.runbook ?? '').matchAll(/arbiter admin ([a-z-]+)/g)].map((m) => m[1]!)
      expect(named.length, `${rule.alert}: its runbook names no arbiter admin command`).toBeGreaterThan(0)
      expect(commands, rule.alert).toEqual(expect.arrayContaining(named))
    }
    expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length)
  })

  it('covers what issue #25 asks for', () => {
    const exprOf = (alert: string): string => rules.find((r) => r.alert === alert)?.expr ?? `(no rule ${alert})`
    expect(exprOf('ArbiterTransactionsStuck')).toContain('arbiter_transactions_stuck')
    expect(exprOf('ArbiterInDoubtGrowing')).toContain('arbiter_transactions_in_doubt')
    expect(exprOf('ArbiterHeuristicOutcome')).toContain('increase(arbiter_transactions_heuristic_total')
    expect(exprOf('ArbiterDown')).toContain('up{job="arbiter"} == 0')
    expect(exprOf('ArbiterResourceDown')).toContain('arbiter_resource_up')
    expect(exprOf('ArbiterResourceErrors')).toContain('arbiter_resource_errors_total')
    expect(exprOf('ArbiterRecoveryFailing')).toContain('increase(arbiter_recovery_failures_total')
    expect(exprOf('ArbiterNotReady')).toContain('arbiter_ready')
    expect(exprOf('ArbiterPreparedHeadroomLow')).toContain('arbiter_resource_prepared_headroom')
    expect(exprOf('ArbiterLeaseLost')).toContain('increase(arbiter_cluster_leases_lost_total')
    expect(exprOf('ArbiterTakeover')).toContain('increase(arbiter_cluster_takeovers_total')
    expect(exprOf('ArbiterClusterNoQuorum')).toContain('arbiter_cluster_members_live')
  })

  it('the unit tests have, for every alert, a case where it fires and one where it does not', () => {
    const tests = parseYaml(readFileSync(RULES_TEST_FILE, 'utf8')) as {
      rule_files: string[]
      tests: { alert_rule_test: { alertname: string; exp_alerts: unknown[] }[] }[]
    }
    expect(tests.rule_files).toEqual(['arbiter-rules.yml'])
    const cases = tests.tests.flatMap((t) => t.alert_rule_test)
    const missing = rules.flatMap((r) => {
      const mine = cases.filter((c) => c.alertname === r.alert)
      return [
        ...(mine.some((c) => c.exp_alerts.length > 0) ? [] : [`${r.alert}: no firing case`]),
        ...(mine.some((c) => c.exp_alerts.length === 0) ? [] : [`${r.alert}: no not-firing case`]),
      ]
    })
    expect(missing).toEqual([])
  })

  it('promtool check rules accepts the file', (ctx) => {
    needPromtool(ctx)
    const r = promtool('check', 'rules', RULES_FILE)
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`)
    expect(r.status, r.output).toBe(0)
  })

  it('promtool test rules: every unit test passes', (ctx) => {
    needPromtool(ctx)
    const r = promtool('test', 'rules', RULES_TEST_FILE)
    expect(r.status, r.output).toBe(0)
    expect(r.output).toContain('SUCCESS')
  })

  it('promtool check config accepts the example Prometheus config, rules included', (ctx) => {
    needPromtool(ctx)
    const r = promtool('check', 'config', PROMETHEUS_CONFIG)
    expect(r.status, r.output).toBe(0)
    expect(r.output).toContain(`SUCCESS: ${rules.length} rules found`)
  })
})
