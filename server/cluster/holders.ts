// Which node holds a transaction, as the shared store says: for operators
// asking any node about the whole cluster (Admin: transactions, in-doubt,
// show, resolve). The holder is the node whose recovery finishes the
// transaction and whose fenced writes alone may decide or resolve it:
// - the owner of its unfinished row (the node that decided it, or took it over);
// - with no unfinished row: the node its gtrid names, or, when that node was
//   taken over and has not rejoined, the node that took it over (followed
//   along a chain of takeovers).
import type pg from 'pg'
import { parseGtrid } from '../../adapters/xid/xid.js'
import type { LoggedTransaction } from '../log/decision-log.js'
import type { ClusterMembers, Member } from './members.js'
import { StoreError } from './store-error.js'

export type StoreOutcome = 'commit' | 'abort' | 'resolved'

export interface Holder {
  readonly nodeId: string
  /** Where clients reach it; '' when the store has never seen that node. */
  readonly address: string
  /** Its lease is live: it serves now. */
  readonly live: boolean
  /** What the store holds for the transaction: a decision, a presumed-abort marker, only resolutions; undefined: nothing. */
  readonly outcome?: StoreOutcome
  /** The store's row is ended: the transaction is finished. */
  readonly ended: boolean
}

/** Another node's unfinished transaction as the store holds it (PostgresDecisionLog.unfinishedOf). */
export interface HeldElsewhere {
  readonly owner: string
  readonly transaction: LoggedTransaction
}

export class TransactionHolders {
  constructor(
    private readonly pool: pg.Pool,
    private readonly members: ClusterMembers,
    private readonly option: string,
  ) {}

  /** The holder of each gtrid (malformed ones are left out: not Arbiter's). One read of the rows, one of the members. */
  async of(gtrids: readonly string[]): Promise<Map<string, Holder>> {
    const unique = [...new Set(gtrids)]
    const out = new Map<string, Holder>()
    if (unique.length === 0) return out
    let rows: { gtrid: string; owner: string; outcome: StoreOutcome; ended: boolean }[]
    try {
      rows = (
        await this.pool.query<{ gtrid: string; owner: string; outcome: StoreOutcome; ended: boolean }>(
          'SELECT gtrid, owner, outcome, ended_at IS NOT NULL AS ended FROM arbiter_transactions WHERE gtrid = ANY($1::text[])',
          [unique],
        )
      ).rows
    } catch (error) {
      throw StoreError.from(error, this.option, 'reading who holds a transaction')
    }
    const members = new Map((await this.members.list()).map((m) => [m.nodeId, m]))
    const row = new Map(rows.map((r) => [r.gtrid, r]))
    for (const gtrid of unique) {
      let named: string
      try {
        named = parseGtrid(gtrid).nodeId
      } catch {
        continue
      }
      const found = row.get(gtrid)
      const nodeId = found && !found.ended ? found.owner : successorOf(named, members)
      const member = members.get(nodeId)
      out.set(gtrid, {
        nodeId,
        address: member?.address ?? '',
        live: member?.live ?? false,
        ...(found && { outcome: found.outcome }),
        ended: found?.ended ?? false,
      })
    }
    return out
  }
}

/** The node that holds `nodeId`'s work now: itself, or the last of a chain of takeovers (a cycle stops where it closes). */
export function successorOf(nodeId: string, members: ReadonlyMap<string, Member>): string {
  const seen = new Set<string>()
  let at = nodeId
  for (;;) {
    seen.add(at)
    const next = members.get(at)?.takenOverBy
    if (next === undefined || seen.has(next)) return at
    at = next
  }
}
