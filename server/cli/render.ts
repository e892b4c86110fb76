// Human-readable output of `arbiter admin` (ecosystem.md §8): cli-table3
// tables; PREPARED and in-doubt branches in yellow, stuck and heuristic ones
// in red. Colour follows picocolors (off for NO_COLOR, non-TTY output) and
// --no-color. `--json` output is built here too, with XIDs in the same text
// form the tables print and `resolve --xid` accepts.
import Table from 'cli-table3'
import pc from 'picocolors'
import type { Transaction__Output } from '../../proto/gen/arbiter/v1/Transaction.js'
import type { ListTransactionsResponse__Output } from '../../proto/gen/arbiter/v1/ListTransactionsResponse.js'
import type { ListInDoubtResponse__Output } from '../../proto/gen/arbiter/v1/ListInDoubtResponse.js'
import type { InDoubtBranch__Output } from '../../proto/gen/arbiter/v1/InDoubtBranch.js'
import type { RecoveryStep__Output } from '../../proto/gen/arbiter/v1/RecoveryStep.js'
import type { ListResourcesResponse__Output } from '../../proto/gen/arbiter/v1/ListResourcesResponse.js'
import type { ListNodesResponse__Output } from '../../proto/gen/arbiter/v1/ListNodesResponse.js'
import { wireXidText } from './xid-text.js'

export type Colors = ReturnType<typeof pc.createColors>

export function colors(enabled: boolean): Colors {
  return pc.createColors(enabled && pc.isColorSupported)
}

function table(c: Colors, head: string[]): Table.Table {
  return new Table({ head: head.map((h) => c.bold(h)), style: { head: [], border: [] }, wordWrap: true })
}

/** "TRANSACTION_STATE_COMMITTING" → "COMMITTING". */
export function shortEnum(value: string, prefix: string): string {
  return value.startsWith(prefix) ? value.slice(prefix.length) : value
}

export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?'
  if (ms < 1000) return `${Math.round(ms)}ms`
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`
  if (s < 86_400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`
  return `${Math.floor(s / 86_400)}d${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')}h`
}

/** What recovery will do, in words (`in-doubt`'s RECOVERY column). */
export function recoveryPhrase(b: Pick<InDoubtBranch__Output, 'knowledge' | 'action'> & { node?: string; nodeLive?: boolean }): string {
  const action = shortEnum(b.action, 'RECOVERY_ACTION_')
  const knowledge = shortEnum(b.knowledge, 'LOG_KNOWLEDGE_')
  // Another node's branch outside a cluster: its gtrid names the node; nothing here knows of its liveness.
  if (knowledge === 'OTHER_NODE' && b.nodeLive === undefined) return b.node ? `left alone (TM node ${b.node}'s: its own recovery finishes it)` : "left alone (another TM node's)"
  // Another node's branch in a cluster (this node leaves it alone): what its holder will do.
  if (action === 'NONE' && b.node && knowledge !== 'FOREIGN') {
    // A holder that is down does nothing until a takeover or its restart: say so rather than "node X commits it".
    if (b.nodeLive === false) {
      const waits = `waits: node ${b.node} is down and not yet taken over;`
      if (knowledge === 'COMMITTED') return `${waits} committed (decision in the shared store) once a node takes it over or it starts again`
      if (knowledge === 'NO_DECISION') return `${waits} rolled back (presumed aborted) once a node takes it over or it starts again`
      return `${waits} finished once a node takes it over or it starts again`
    }
    if (knowledge === 'COMMITTED') return `node ${b.node} commits it (decision in the shared store)`
    if (knowledge === 'NO_DECISION') return `node ${b.node} rolls it back (presumed aborted)`
    return `node ${b.node} decides it (in progress there, or resolved by an operator)`
  }
  switch (knowledge) {
    case 'COMMITTED':
      return action === 'WAIT' ? 'will commit (phase 2 retrying)' : 'will commit'
    case 'RESOLVED_COMMIT':
      return 'will commit (resolved by an operator)'
    case 'RESOLVED_ROLLBACK':
      return 'will roll back (resolved by an operator)'
    case 'NO_DECISION':
      if (action === 'ROLLBACK') return 'will roll back'
      if (action === 'ROLLBACK_AFTER_GRACE') return 'will roll back after the grace period'
      return 'waits: the decision log is not healthy'
    case 'LIVE':
      return 'waits: in progress on this TM'
    case 'FOREIGN':
      return 'never touched (foreign)'
    case 'OTHER_NODE':
      return "left alone (another TM node's)"
    default:
      return `unknown (${b.knowledge})`
  }
}

export function alertsOf(tx: Transaction__Output, stuck: boolean): string[] {
  const alerts: string[] = []
  if (stuck) alerts.push('STUCK')
  if (tx.state === 'TRANSACTION_STATE_HEURISTIC') alerts.push('HEURISTIC')
  if (tx.state === 'TRANSACTION_STATE_OUTCOME_UNKNOWN') alerts.push('UNKNOWN')
  return alerts
}

function stateCell(c: Colors, state: string, alert: boolean): string {
  const s = shortEnum(state, 'TRANSACTION_STATE_')
  if (alert || s === 'HEURISTIC' || s === 'OUTCOME_UNKNOWN') return c.red(s)
  if (s === 'PREPARING' || s === 'COMMITTING') return c.yellow(s)
  return s
}

function branchStateCell(c: Colors, state: string): string {
  const s = shortEnum(state, 'BRANCH_STATE_')
  if (s === 'PREPARED') return c.yellow(s)
  if (s === 'FAILED') return c.red(s)
  return s
}

export function renderTransactions(c: Colors, items: ListTransactionsResponse__Output['transactions'], now = Date.now()): string {
  if (items.length === 0) return 'no transactions'
  const t = table(c, ['GTRID', 'NODE', 'STATE', 'AGE', 'BRANCHES', 'ALERT', 'LABELS'])
  for (const { transaction: tx, stuck, node } of items) {
    if (!tx) continue
    const alerts = alertsOf(tx, stuck)
    t.push([
      tx.gtrid,
      node,
      stateCell(c, tx.state, alerts.length > 0),
      formatAge(now - Number(tx.createdAtUnixMs)),
      tx.branches.map((b) => `${b.resource}:${shortEnum(b.state, 'BRANCH_STATE_').toLowerCase()}`).join(' '),
      c.red(alerts.join(' ')),
      Object.entries(tx.labels).map(([k, v]) => `${k}=${v}`).join(' '),
    ])
  }
  return t.toString()
}

export function renderTransaction(c: Colors, tx: Transaction__Output, now = Date.now()): string {
  const head = new Table({ style: { head: [], border: [] } })
  const time = (ms: string): string => (ms === '0' ? '-' : `${new Date(Number(ms)).toISOString()} (${formatAge(now - Number(ms))} ago)`)
  head.push(
    { gtrid: tx.gtrid },
    { state: stateCell(c, tx.state, false) },
    { created: time(tx.createdAtUnixMs) },
    { updated: time(tx.updatedAtUnixMs) },
    { deadline: tx.deadlineUnixMs === '0' ? '-' : new Date(Number(tx.deadlineUnixMs)).toISOString() },
    { 'commit path': tx.commitPath || '-' },
    { reason: tx.abortReason || '-' },
    { labels: Object.entries(tx.labels).map(([k, v]) => `${k}=${v}`).join(' ') || '-' },
  )
  if (tx.branches.length === 0) return `${head.toString()}\nno branches known`
  // The audit text of an operator's resolution has its own column: it is not an error.
  const branches = table(c, ['RESOURCE', 'XID', 'MODE', 'STATE', 'ATTEMPTS', 'LAST ERROR', 'RESOLVED'])
  for (const b of tx.branches) {
    branches.push([
      b.resource,
      wireXidText(b.xid),
      shortEnum(b.mode, 'BRANCH_MODE_').toLowerCase(),
      branchStateCell(c, b.state),
      b.attempts,
      b.lastError ? c.red(b.lastError) : '',
      b.resolution,
    ])
  }
  return `${head.toString()}\n${branches.toString()}`
}

function unreachableLines(c: Colors, unreachable: Record<string, string>): string {
  return Object.entries(unreachable)
    .map(([name, why]) => c.red(`unreachable: ${name}: ${why}`))
    .join('\n')
}

export function renderInDoubt(c: Colors, res: ListInDoubtResponse__Output): string {
  const parts: string[] = []
  if (res.branches.length === 0) parts.push('no prepared branches')
  else {
    const t = table(c, ['RESOURCE', 'XID', 'NODE', 'AGE', 'LOG', 'RECOVERY'])
    for (const b of res.branches) {
      const foreign = b.knowledge === 'LOG_KNOWLEDGE_FOREIGN'
      t.push([
        b.resource,
        foreign ? b.rawId : wireXidText(b.xid),
        b.node || '-',
        b.ageMs === undefined ? '-' : formatAge(Number(b.ageMs)),
        shortEnum(b.knowledge, 'LOG_KNOWLEDGE_'),
        foreign ? recoveryPhrase(b) : c.yellow(recoveryPhrase(b)),
      ])
    }
    parts.push(t.toString())
  }
  if (Object.keys(res.unreachable).length > 0) parts.push(unreachableLines(c, res.unreachable))
  return parts.join('\n')
}

export function renderSteps(c: Colors, steps: RecoveryStep__Output[], unreachable: Record<string, string> = {}): string {
  const parts: string[] = []
  if (steps.length === 0) parts.push('nothing to do')
  else {
    const t = table(c, ['RESOURCE', 'XID', 'ACTION', 'RESULT'])
    for (const s of steps) {
      const failed = s.result.startsWith('failed')
      t.push([s.resource, wireXidText(s.xid), shortEnum(s.action, 'RECOVERY_ACTION_').toLowerCase(), failed ? c.red(s.result) : s.result])
    }
    parts.push(t.toString())
  }
  if (Object.keys(unreachable).length > 0) parts.push(unreachableLines(c, unreachable))
  return parts.join('\n')
}

export function renderResources(c: Colors, res: ListResourcesResponse__Output): string {
  if (res.resources.length === 0) return 'no resources configured'
  // '-' wherever the JSON has no field: absent is not zero.
  const t = table(c, ['NAME', 'KIND', 'STATE', 'PREPARED', 'HEADROOM', 'POOL', 'ERROR'])
  for (const r of res.resources) {
    const state = shortEnum(r.state, 'RESOURCE_STATE_').toLowerCase()
    t.push([
      r.name,
      r.kind,
      state === 'ready' ? state : c.red(state),
      r.preparedBranches === undefined ? '-' : r.preparedBranches > 0 ? c.yellow(String(r.preparedBranches)) : String(r.preparedBranches),
      r.preparedHeadroom === undefined ? '-' : String(r.preparedHeadroom),
      r.poolSize === undefined ? '-' : `${r.poolInUse ?? '-'}/${r.poolSize}`,
      r.error ? c.red(r.error) : '',
    ])
  }
  return t.toString()
}

export function renderNodes(c: Colors, res: ListNodesResponse__Output, now = Date.now()): string {
  const t = table(c, ['NODE', 'ADDRESS', 'LEASE', 'EPOCH', 'UNFINISHED', 'TAKEN OVER', 'TIMES'])
  for (const n of res.nodes) {
    const takenAt = Number(n.takenOverAtUnixMs)
    t.push([
      n.thisNode ? `${n.nodeId} ${c.dim('(this)')}` : n.nodeId,
      n.address,
      res.store === 'file' ? '-' : n.live ? `${(n.leaseLeftMs / 1000).toFixed(1)} s left` : c.red('lapsed'),
      n.epoch,
      Number(n.unfinishedTransactions) > 0 ? c.yellow(String(n.unfinishedTransactions)) : String(n.unfinishedTransactions),
      n.takenOverBy ? c.yellow(`by ${n.takenOverBy}${takenAt > 0 ? ` ${formatAge(now - takenAt)} ago` : ''}`) : '',
      n.timesTakenOver,
    ])
  }
  const note = res.store === 'file' ? `\n${c.dim('one node on its file log (log.store: file): no cluster')}` : ''
  return t.toString() + note
}

/**
 * A response made fit for JSON: XIDs (Buffers on the wire) become their text
 * form, and the loader's markers of optional fields ("_ageMs": "ageMs") go:
 * an optional field is there or not, as in the table.
 */
export function toJson(value: unknown): string {
  return JSON.stringify(
    value,
    function (this: unknown, key, v: unknown) {
      if (key.startsWith('_') && v === key.slice(1)) return undefined
      if (key === 'xid' || key === 'commitLocally') {
        const x = v as { formatId: number; gtrid: Buffer; bqual: Buffer } | null
        return x && typeof x === 'object' && 'gtrid' in x ? wireXidText({ formatId: x.formatId, gtrid: Buffer.from(x.gtrid), bqual: Buffer.from(x.bqual) }) : v
      }
      return v
    },
    2,
  )
}
