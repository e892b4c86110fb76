// The bank's invariants (reliability.md §b), checked at quiescence after
// recovery: the total is conserved, every transfer landed in both databases
// or in neither, and what the client was told agrees with what landed.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import { mysqlRecoverRowToXid, pgGidToXid, type MysqlRecoverRow } from '../../adapters/index.js'
import { ledgers } from './schema.js'

/** What the client saw of one transfer: committed, aborted (with why), or unknown (the TM died under it). */
export type Outcome = 'committed' | 'unknown' | `aborted:${string}`

/** Prepared branches of the TM nodes `nodeIds` (gtrid "node:ULID") in the two databases. */
export async function preparedLeft(pgPool: pg.Pool, mysqlPool: mysql.Pool, nodeIds: string | readonly string[]): Promise<{ pg: number; mysql: number; total: number }> {
  const prefixes = (typeof nodeIds === 'string' ? [nodeIds] : nodeIds).map((n) => `${n}:`)
  const ours = (gtrid: string | undefined): boolean => gtrid !== undefined && prefixes.some((p) => gtrid.startsWith(p))
  const { rows } = await pgPool.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')
  const pgCount = rows.filter((r) => ours(pgGidToXid(r.gid)?.gtrid.toString('utf8'))).length
  // XA RECOVER is server-wide: other databases' branches show too.
  const [xa] = await mysqlPool.query('XA RECOVER')
  const mysqlCount = (xa as MysqlRecoverRow[]).filter((r) => ours(mysqlRecoverRowToXid(r)?.gtrid.toString('utf8'))).length
  return { pg: pgCount, mysql: mysqlCount, total: pgCount + mysqlCount }
}

/** The invariants: conservation, per-transfer atomicity, and agreement with what the client saw. */
export async function checkBank(
  pgPool: pg.Pool,
  mysqlPool: mysql.Pool,
  /** Per transfer: what the client saw, and the error's own words when it failed (they name the gtrid). */
  outcomes: Map<string, { outcome: Outcome; detail?: string }>,
  totalBefore: number,
  totalAfter: number,
): Promise<{ anomalies: string[]; unknown: { total: number; committed: number; rolledBack: number } }> {
  const anomalies: string[] = []
  if (totalBefore !== totalAfter) anomalies.push(`money was created or destroyed: total ${totalBefore} became ${totalAfter}`)
  const { pg: pgLedger, mysql: mysqlLedger } = await ledgers(pgPool, mysqlPool)
  const unknown = { total: 0, committed: 0, rolledBack: 0 }
  for (const [id, { outcome, detail }] of outcomes) {
    const inPg = pgLedger.has(id)
    const inMysql = mysqlLedger.has(id)
    const landed = inPg || inMysql
    const net = (pgLedger.get(id) ?? 0) + (mysqlLedger.get(id) ?? 0)
    if (landed && net !== 0) anomalies.push(`transfer ${id} is half done: its legs sum to ${net}`)
    if (outcome === 'committed' && !landed) anomalies.push(`transfer ${id} was reported committed but is in neither database`)
    if (outcome.startsWith('aborted:') && landed) anomalies.push(`transfer ${id} was reported aborted (${outcome}) but landed${detail ? `: ${detail}` : ''}`)
    if (outcome === 'unknown') {
      unknown.total++
      if (landed) unknown.committed++
      else unknown.rolledBack++
    }
  }
  return { anomalies, unknown }
}
