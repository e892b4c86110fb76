// Keeps the shared store's tables from growing without bound: transactions
// that ended (and presumed-abort markers) more than log.retainEndedMs ago are
// deleted with their resolutions, a thousand at a time. Until then a late
// status query still finds them; afterwards the answer is NOT_FOUND, which
// presumed abort reads correctly (the retention is far above any timeout).
// A transaction with a heuristic resolution is kept with its resolutions:
// the audit trail of an outcome that broke atomicity, and what every view
// answers HEURISTIC from (found by hostile testing: swept, it read NOT_FOUND).
import type pg from 'pg'

export async function sweepEnded(pool: pg.Pool, retainEndedMs: number): Promise<number> {
  let total = 0
  for (;;) {
    const gone = (
      await pool.query<{ gtrid: string }>(
        `DELETE FROM arbiter_transactions WHERE gtrid IN (
           SELECT t.gtrid FROM arbiter_transactions t WHERE t.ended_at < now() - $1 * interval '1 millisecond'
             AND NOT EXISTS (SELECT 1 FROM arbiter_resolutions r WHERE r.gtrid = t.gtrid AND r.record @> '{"heuristic": true}')
           LIMIT 1000)
         RETURNING gtrid`,
        [retainEndedMs],
      )
    ).rows.map((r) => r.gtrid)
    if (gone.length > 0) await pool.query('DELETE FROM arbiter_resolutions WHERE gtrid = ANY($1::text[])', [gone])
    total += gone.length
    if (gone.length < 1000) return total
  }
}
