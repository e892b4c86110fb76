// Reading the shared store's rows back into a DecisionIndex
// (postgres-decision-log.ts): a node's own transactions at start-up and
// rejoin, those a takeover moved to it, and other nodes' for operators.
// The store keeps one row per transaction and its resolutions apart; here
// they become the records a file log would have replayed.
import type pg from 'pg'
import { StoreError } from '../cluster/store-error.js'
import type { DecisionIndex } from './decision-index.js'
import type { LoggedBranch, ResolutionRecord } from './log-record.js'

export interface StoreRowsQuery {
  /** The SQL condition on arbiter_transactions (rows presumed aborted are never read). */
  readonly where: string
  readonly params: unknown[]
  /** What the read is for, in a StoreError's message. */
  readonly doing: string
  /** Apply an END to every row read, whatever its ended_at says. */
  readonly ended?: boolean
}

/** Reads the rows the query selects (and their resolutions) into `index`; answers each row's owner. */
export async function readStoreRows(store: { pool: pg.Pool; option: string }, index: DecisionIndex, q: StoreRowsQuery): Promise<Map<string, string>> {
  type Row = { gtrid: string; owner: string; outcome: string; branches: LoggedBranch[]; decided_ms: string; ended: boolean; trace: string | null }
  let rows: Row[]
  let resolutions: { gtrid: string; record: ResolutionRecord }[]
  try {
    rows = (
      await store.pool.query<Row>(
        `SELECT gtrid, owner, outcome, branches, decided_ms::text, ended_at IS NOT NULL AS ended, trace FROM arbiter_transactions WHERE ${q.where} AND outcome <> 'abort'`,
        q.params,
      )
    ).rows
    resolutions = (
      await store.pool.query<{ gtrid: string; record: ResolutionRecord }>('SELECT gtrid, record FROM arbiter_resolutions WHERE gtrid = ANY($1::text[]) ORDER BY id', [rows.map((r) => r.gtrid)])
    ).rows
  } catch (error) {
    throw StoreError.from(error, store.option, q.doing)
  }
  const byGtrid = new Map<string, ResolutionRecord[]>()
  for (const r of resolutions) byGtrid.set(r.gtrid, [...(byGtrid.get(r.gtrid) ?? []), r.record])
  for (const row of rows) {
    if (row.outcome === 'commit') {
      index.apply({ type: 'decision', gtrid: row.gtrid, at: Number(row.decided_ms), branches: row.branches, ...(row.trace !== null && { trace: row.trace }) })
    }
    for (const resolution of byGtrid.get(row.gtrid) ?? []) index.apply(resolution)
    if (q.ended === true || row.ended) index.apply({ type: 'end', gtrid: row.gtrid, at: 0 })
  }
  return new Map(rows.map((row) => [row.gtrid, row.owner]))
}
