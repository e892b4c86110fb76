// What the TM process did during a measured window: CPU time and
// decision-log fsyncs. From its Prometheus endpoint when it has one
// (config `metrics.listen`, log line "metrics listening"), else CPU from
// /proc/<pid>/stat and no fsync count.
import { readFileSync, readdirSync } from 'node:fs'

export interface TmSample {
  /** TM process CPU seconds (user + system). */
  readonly cpuSeconds: number | undefined
  readonly fsyncs: number | undefined
  readonly records: number | undefined
  /** arbiter_transactions_finished_total summed over labels, by outcome. */
  readonly finished: Readonly<Record<string, number>>
  /** The longest event-loop delay since the previous scrape (prom-client resets it at each), seconds. */
  readonly eventLoopLagMaxSeconds?: number | undefined
}

/** Prometheus text format → samples: `name{labels}` → value (labels as written, sorted). Comments are skipped. */
export function parsePrometheus(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line)
    if (!m) continue
    const labels = m[3] ? [...m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => `${l[1]}="${l[2]}"`).sort() : []
    const value = Number(m[4])
    if (!Number.isNaN(value)) out.set(labels.length ? `${m[1]}{${labels.join(',')}}` : m[1]!, value)
  }
  return out
}

/** Sum of every sample of `name` (any labels). */
export function sumOf(samples: Map<string, number>, name: string): number | undefined {
  let total: number | undefined
  for (const [key, value] of samples) {
    if (key === name || key.startsWith(`${name}{`)) total = (total ?? 0) + value
  }
  return total
}

/** arbiter_transactions_finished_total summed by its `outcome` label. */
export function finishedByOutcome(samples: Map<string, number>): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [key, value] of samples) {
    if (!key.startsWith('arbiter_transactions_finished_total{')) continue
    const outcome = /outcome="([^"]*)"/.exec(key)?.[1] ?? 'unknown'
    out[outcome] = (out[outcome] ?? 0) + value
  }
  return out
}

const CLK_TCK = 100

/** utime + stime of a process from /proc/<pid>/stat, seconds; undefined when unreadable. */
export function procCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // After "pid (comm) ": state is field 3, so utime (14) and stime (15) are at 11 and 12.
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return undefined
  }
}

/**
 * CPU seconds of a server and every process it started (PostgreSQL's
 * postmaster and its backends): its own and its ended children's from its
 * stat, plus each live child's. Undefined when the server's stat is unreadable.
 */
export function processTreeCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined
  const fieldsOf = (p: number | string): string[] | undefined => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8')
      return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    } catch {
      return undefined
    }
  }
  const own = fieldsOf(pid)
  if (!own) return undefined
  // After "pid (comm) ": ppid is field 4 (index 1); utime, stime, cutime, cstime are fields 14–17 (indexes 11–14).
  let ticks = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14])
  let entries: string[] = []
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e))
  } catch {
    // no /proc listing: the server's own share only
  }
  for (const e of entries) {
    const f = fieldsOf(e)
    if (f && Number(f[1]) === pid) ticks += Number(f[11]) + Number(f[12])
  }
  return ticks / CLK_TCK
}

/** The metrics address the TM logged ("metrics listening" with `address`), if any. */
export function metricsAddress(tmLogs: string): string | undefined {
  for (const line of tmLogs.split('\n')) {
    if (!line.includes('"metrics listening"')) continue
    try {
      const entry = JSON.parse(line) as { address?: unknown }
      if (typeof entry.address === 'string') return entry.address
    } catch {
      // not JSON
    }
  }
  return undefined
}

export class TmStats {
  constructor(
    private readonly pid: number | undefined,
    private readonly metricsUrl: string | undefined,
  ) {}

  get source(): string {
    return this.metricsUrl
      ? `its Prometheus endpoint (${this.metricsUrl}: arbiter_decision_log_fsyncs_total, process_cpu_seconds_total)`
      : '/proc/<pid>/stat for CPU (the TM exposed no metrics endpoint, so fsyncs are n/a)'
  }

  get hasFsyncs(): boolean {
    return this.metricsUrl !== undefined
  }

  async sample(): Promise<TmSample> {
    const procCpu = procCpuSeconds(this.pid)
    if (this.metricsUrl) {
      try {
        const response = await fetch(this.metricsUrl, { signal: AbortSignal.timeout(5000) })
        const samples = parsePrometheus(await response.text())
        return {
          // /proc has 10 ms ticks; prom-client's counter is finer. Prefer it when present.
          cpuSeconds: sumOf(samples, 'process_cpu_seconds_total') ?? procCpu,
          fsyncs: sumOf(samples, 'arbiter_decision_log_fsyncs_total'),
          records: sumOf(samples, 'arbiter_decision_log_records_total'),
          finished: finishedByOutcome(samples),
          eventLoopLagMaxSeconds: sumOf(samples, 'nodejs_eventloop_lag_max_seconds'),
        }
      } catch {
        // fall through: CPU from /proc only
      }
    }
    return { cpuSeconds: procCpu, fsyncs: undefined, records: undefined, finished: {} }
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat); undefined off Linux. */
export function machineCpu(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!
    const v = line.trim().split(/\s+/).slice(1).map(Number)
    const total = v.reduce((a, b) => a + b, 0)
    const idle = (v[3] ?? 0) + (v[4] ?? 0)
    return { busy: total - idle, total }
  } catch {
    return undefined
  }
}
