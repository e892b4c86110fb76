// Two Arbiter nodes on a shared PostgreSQL store under load, scraped by a
// real Prometheus (Debian's `prometheus`) on deploy/prometheus/prometheus.yml
// with only its targets, intervals and rules path replaced. Shared by
// dashboard.test.ts (every panel query and rule against it) and
// scripts/dashboard-snapshot.ts (the picture of the dashboard in
// docs/operations.md), so the picture shows what the test checks.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { parse as parseYaml, stringify as toYaml } from 'yaml'
import { createArbiterClient, type ArbiterClient } from '../../../client/index.js'
import { createDatabase } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, freePort, testConfig } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'
import { PROMETHEUS_CONFIG, RULES_FILE } from './observability-files.js'

/** cluster.leaseMs of both nodes: short, so a paused node is taken over within seconds. */
export const LEASE_MS = 1500
export const TAKEOVER_INTERVAL_MS = 300
export const WORKERS_PER_NODE = 3

export interface PromResponse<T> {
  status: 'success' | 'error'
  error?: string
  errorType?: string
  data: T
}
export type Matrix = { metric: Record<string, string>; values: [number, string][] }[]
export type InstantVector = { metric: Record<string, string>; value: [number, string] }[]

/** A Prometheus server of our own, on a free loopback port, its data in a temp folder. */
export class LivePrometheus {
  private output = ''

  private constructor(
    readonly url: string,
    private readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()))
  }

  /** Starts it on the shipped config (only targets, intervals and the rules' absolute path changed); resolves once /-/ready answers. */
  static async start(dir: string, targets: string[], scrapeInterval = '1s'): Promise<LivePrometheus> {
    const config = parseYaml(readFileSync(PROMETHEUS_CONFIG, 'utf8')) as {
      global: Record<string, string>
      rule_files: string[]
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[]
    }
    const shape = JSON.stringify({ rules: config.rule_files, jobs: config.scrape_configs.map((s) => s.job_name) })
    if (shape !== JSON.stringify({ rules: ['arbiter-rules.yml'], jobs: ['arbiter'] })) {
      throw new Error(`${PROMETHEUS_CONFIG}: expected rule_files [arbiter-rules.yml] and one job, arbiter; found ${shape}`)
    }
    config.global = { ...config.global, scrape_interval: scrapeInterval, scrape_timeout: scrapeInterval, evaluation_interval: scrapeInterval }
    config.rule_files = [RULES_FILE]
    config.scrape_configs[0]!.static_configs = [{ targets }]
    const configFile = join(dir, 'prometheus.yml')
    writeFileSync(configFile, toYaml(config))
    const listen = `127.0.0.1:${await freePort()}`
    const child = spawn(
      'prometheus',
      [`--config.file=${configFile}`, `--storage.tsdb.path=${join(dir, 'data')}`, `--web.listen-address=${listen}`, '--log.level=warn'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    const prometheus = new LivePrometheus(`http://${listen}`, child)
    const deadline = Date.now() + 20_000
    for (;;) {
      if (child.exitCode !== null) throw new Error(`prometheus exited (${child.exitCode}):\n${prometheus.output.slice(-3000)}`)
      const ready = await fetch(`${prometheus.url}/-/ready`).then((r) => r.ok, () => false)
      if (ready) return prometheus
      if (Date.now() > deadline) {
        await prometheus.stop()
        throw new Error(`prometheus not ready in 20 s:\n${prometheus.output.slice(-3000)}`)
      }
      await sleep(200)
    }
  }

  /** One HTTP API call: GET without params, else a form POST. */
  async api<T>(path: string, params: Record<string, string> = {}): Promise<PromResponse<T>> {
    const post = Object.keys(params).length > 0
    const res = await fetch(`${this.url}${path}`, { method: post ? 'POST' : 'GET', ...(post && { body: new URLSearchParams(params) }) })
    return (await res.json()) as PromResponse<T>
  }

  query(expr: string): Promise<PromResponse<{ result: InstantVector }>> {
    return this.api('/api/v1/query', { query: expr })
  }

  queryRange(expr: string, start: number, end: number, stepSeconds: number): Promise<PromResponse<{ result: Matrix }>> {
    return this.api('/api/v1/query_range', { query: expr, start: String(start), end: String(end), step: String(stepSeconds) })
  }

  /** The values of `label` on the series `match` selects between start and end (Unix seconds), sorted. */
  async labelValues(label: string, match: string, start: number, end: number): Promise<string[]> {
    const params = new URLSearchParams({ 'match[]': match, start: String(start), end: String(end) })
    return (await this.api<string[]>(`/api/v1/label/${label}/values?${params.toString()}`)).data.sort()
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return
    const exited = new Promise((resolve) => this.child.once('exit', resolve))
    this.child.kill('SIGTERM')
    await exited
  }
}

/** The dashboard's variables over [start, end], as Grafana resolves them with node = All, and a substitution for its queries. */
export interface DashboardVariables {
  readonly nodeIds: string[]
  readonly instances: string[]
  readonly substitute: (expr: string) => string
}

/**
 * label_values(arbiter_node_info, node), then instance for those nodes; a
 * multi-value variable in a regex matcher is each value escaped and joined
 * with |, as Grafana does. rateInterval stands for $__rate_interval and
 * $__interval, $__range is end − start.
 */
export async function resolveDashboardVariables(prometheus: LivePrometheus, start: number, end: number, rateInterval: string): Promise<DashboardVariables> {
  const regexOf = (values: string[]) => `(${values.map((v) => v.replace(/[\\^$*+?.()|[\]{}]/g, '\\\\$&')).join('|')})`
  const nodeIds = await prometheus.labelValues('node', 'arbiter_node_info', start, end)
  const instances = await prometheus.labelValues('instance', `arbiter_node_info{node=~"${regexOf(nodeIds)}"}`, start, end)
  return {
    nodeIds,
    instances,
    substitute: (expr) =>
      expr
        .replaceAll('$node', regexOf(nodeIds))
        .replaceAll('$instance', regexOf(instances))
        .replaceAll('$__rate_interval', rateInterval)
        .replaceAll('$__interval', rateInterval)
        .replaceAll('$__range', `${Math.ceil(end - start)}s`),
  }
}

export interface LiveClusterOptions {
  /** Prefix of the databases created on the servers. */
  readonly prefix: string
  /** Node ids (default: testConfig's random ones, which tests sharing a MariaDB server need). */
  readonly nodeIds?: readonly [string, string]
  /** Prometheus' scrape and evaluation interval (default 1s). */
  readonly scrapeInterval?: string
}

export interface LiveCluster {
  readonly dbs: TestDatabases
  readonly nodes: readonly [ArbiterProcess, ArbiterProcess]
  readonly prometheus: LivePrometheus
  /** When the nodes were up (Unix seconds), just before Prometheus started. */
  readonly startedAt: number
  /** Transactions finished by kind (`two-phase`, `unary failing failed`, …), counted by the workers. */
  readonly outcomes: Record<string, number>
  /** Resumes a paused node and waits for the workers to finish their transaction. */
  stopLoad(): Promise<void>
  /** stopLoad(), then stops Prometheus and the nodes and drops the connections and temp folders. */
  close(): Promise<void>
}

/**
 * Fresh databases on the given servers (accounts 1 to 2 × WORKERS_PER_NODE
 * in both), a store database, two nodes, Prometheus scraping both, and
 * WORKERS_PER_NODE workers per node running every commit path until stopLoad().
 */
export async function startLiveCluster(servers: { pgUrl: string; mysqlUrl: string }, options: LiveClusterOptions): Promise<LiveCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-prometheus-'))
  const nodes: ArbiterProcess[] = []
  const clients: ArbiterClient[] = []
  const unary: ReturnType<typeof tmClient>[] = []
  const outcomes: Record<string, number> = {}
  let dbs: TestDatabases | undefined
  let prometheus: LivePrometheus | undefined
  let loadRunning = true
  let workers: Promise<void>[] = []

  const stopLoad = async (): Promise<void> => {
    loadRunning = false
    for (const node of nodes) if (node.running) node.resume()
    await Promise.all(workers)
  }
  const close = async (): Promise<void> => {
    await stopLoad()
    for (const c of clients) c.close()
    for (const u of unary) u.close()
    await prometheus?.stop()
    await Promise.all(nodes.map((n) => n.destroy()))
    await dbs?.close()
    rmSync(dir, { recursive: true, force: true })
  }

  /** One worker's loop on one node until stopLoad(): a mix of every commit path and a few failures. */
  async function work(worker: number, client: ArbiterClient, tm: ReturnType<typeof tmClient>): Promise<void> {
    const id = worker + 1
    for (let i = 0; loadRunning; i++) {
      const kinds = ['two-phase', 'two-phase', 'two-phase', 'one-phase', 'read-only', 'rollback', 'failing', 'unary', 'unary failing']
      const kind = kinds[i % kinds.length]!
      try {
        if (kind.startsWith('unary')) {
          // Unary calls (grpc_server_handled_total counts a Session stream only when it ends); the failing one answers a non-OK code.
          const { gtrid } = await tm.tm.Begin({ timeoutMs: 5000 })
          const params = [{ intValue: String(id) }]
          const debit = kind === 'unary failing' ? 'balance - 1000000000000' : 'balance - 1'
          await tm.tm.Execute({ gtrid, statement: { resource: 'pg', sql: `UPDATE accounts SET balance = ${debit} WHERE id = $1`, params } })
          await tm.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + 1 WHERE id = ?', params } })
          await tm.tm.Commit({ gtrid })
        } else {
          await client.transaction(async (tx) => {
            if (kind === 'read-only') {
              await tx.execute('pg', 'SELECT balance FROM accounts WHERE id = $1', [id])
              await tx.execute('maria', 'SELECT balance FROM accounts WHERE id = ?', [id])
              return
            }
            // 'failing' breaks the CHECK (balance >= 0): a resource error, the transaction rolled back.
            await tx.execute('pg', 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [kind === 'failing' ? 1e12 : 1, id])
            if (kind !== 'one-phase') await tx.execute('maria', 'UPDATE accounts SET balance = balance + 1 WHERE id = ?', [id])
            if (kind === 'rollback') throw new Error('rolled back on purpose')
          })
        }
        outcomes[kind] = (outcomes[kind] ?? 0) + 1
      } catch {
        outcomes[`${kind} failed`] = (outcomes[`${kind} failed`] ?? 0) + 1
        await sleep(20) // a paused node: do not spin
      }
    }
  }

  try {
    dbs = await createTestDatabases(servers, options.prefix)
    const storeUrl = await createDatabase(servers.pgUrl, 'store')
    for (let id = 1; id <= WORKERS_PER_NODE * 2; id++) {
      await dbs.pgQuery('INSERT INTO accounts VALUES ($1, 1000000)', [id])
      await dbs.mysqlQuery('INSERT INTO accounts VALUES (?, 1000000)', [id])
    }
    const config = (nodeId: string | undefined) =>
      testConfig(
        [
          { name: 'pg', kind: 'postgres', url: dbs!.pgUrl },
          { name: 'maria', kind: 'mysql', url: dbs!.mysqlUrl },
        ],
        {
          ...(nodeId !== undefined && { nodeId }),
          log: { store: 'postgres', url: storeUrl },
          cluster: { leaseMs: LEASE_MS, takeoverIntervalMs: TAKEOVER_INTERVAL_MS },
          metrics: { listen: '127.0.0.1:0', resourceRefreshMs: 500 },
        },
      )
    const started = await Promise.allSettled([ArbiterProcess.start(config(options.nodeIds?.[0])), ArbiterProcess.start(config(options.nodeIds?.[1]))])
    for (const s of started) if (s.status === 'fulfilled') nodes.push(s.value)
    for (const s of started) if (s.status === 'rejected') throw s.reason
    const startedAt = Date.now() / 1000
    prometheus = await LivePrometheus.start(
      dir,
      nodes.map((n) => n.metricsAddress()),
      options.scrapeInterval,
    )
    for (const node of nodes) {
      clients.push(createArbiterClient({ address: node.address, defaultDeadlineMs: 5000 }))
      unary.push(tmClient(node.address))
    }
    workers = Array.from({ length: WORKERS_PER_NODE * 2 }, (_, w) => work(w, clients[w % 2]!, unary[w % 2]!))
    return { dbs, nodes: nodes as [ArbiterProcess, ArbiterProcess], prometheus, startedAt, outcomes, stopLoad, close }
  } catch (error) {
    await close()
    throw error
  }
}
