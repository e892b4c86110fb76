// The one statement that writes a batch of the shared store's decision log
// (postgres-decision-log.ts): decisions, operators' resolutions and ENDs, in
// one round trip and one store commit, each written only while this node
// still holds its lease at its epoch (the fence, row-locked FOR SHARE in the
// statement itself, so a takeover's epoch bump and the write serialize).
// And how a batch whose answer was lost is settled.
import type pg from 'pg'
import type { DecisionRecord, ResolutionRecord } from './log-record.js'

const BATCH_SQL = `
WITH fence AS (
  SELECT epoch FROM arbiter_nodes WHERE node_id = $1 AND epoch = $2 AND lease_expires_at > now() FOR SHARE
), decided AS (
  INSERT INTO arbiter_transactions (gtrid, owner, outcome, branches, decided_ms, epoch, ended_at, trace)
  SELECT d.gtrid, $1, 'commit', d.branches::jsonb, d.at, $2, CASE WHEN d.gtrid = ANY($8::text[]) THEN now() END, d.trace
  FROM unnest($3::text[], $4::text[], $5::bigint[], $9::text[]) AS d(gtrid, branches, at, trace)
  WHERE EXISTS (SELECT 1 FROM fence)
  -- Over this node's own operator-resolution row only (a forced resolution of a branch while the transaction was
  -- still live here: the decision goes on, as in the file store, and the transaction ends heuristic); never over
  -- an abort marker or another node's row.
  ON CONFLICT (gtrid) DO UPDATE SET outcome = 'commit', branches = EXCLUDED.branches, decided_ms = EXCLUDED.decided_ms,
    epoch = EXCLUDED.epoch, ended_at = EXCLUDED.ended_at, trace = EXCLUDED.trace
    -- Not a zeroed epoch: a batch whose answer was lost is settled by zeroing it (postgres-decision-log.ts), so
    -- that statement, should it still run, can no longer write a decision the Commit was told was refused.
    -- (Any other epoch: a resolution written before this node rejoined at a new one is still its own.)
    WHERE arbiter_transactions.outcome = 'resolved' AND arbiter_transactions.owner = $1 AND arbiter_transactions.epoch <> 0
  RETURNING gtrid
), resolved AS (
  -- Not for a transaction decided in this same batch: its decision's row serves, and two inserts of one key in
  -- one statement would make the decision's ON CONFLICT DO UPDATE fail ("cannot affect row a second time").
  INSERT INTO arbiter_transactions (gtrid, owner, outcome, decided_ms, epoch, ended_at)
  SELECT DISTINCT r.gtrid, $1, 'resolved', 0, $2, CASE WHEN r.gtrid = ANY($8::text[]) THEN now() END FROM unnest($6::text[]) AS r(gtrid)
  WHERE EXISTS (SELECT 1 FROM fence) AND NOT (r.gtrid = ANY($3::text[]))
  ON CONFLICT (gtrid) DO NOTHING
), resolutions AS (
  INSERT INTO arbiter_resolutions (gtrid, record)
  SELECT r.gtrid, r.record::jsonb FROM unnest($6::text[], $7::text[]) AS r(gtrid, record)
  WHERE EXISTS (SELECT 1 FROM fence)
), ended AS (
  -- Rows inserted above are not visible to this UPDATE (one snapshot): an END in the same batch as its row's insert is set there.
  -- Only rows this node holds: another node's transaction is ended by that node, once its phase 2 is done.
  UPDATE arbiter_transactions SET ended_at = now()
  WHERE gtrid = ANY($8::text[]) AND owner = $1 AND ended_at IS NULL AND EXISTS (SELECT 1 FROM fence)
)
SELECT EXISTS (SELECT 1 FROM fence) AS fenced_in, ARRAY(SELECT gtrid FROM decided) AS decided`

export interface BatchRows {
  readonly nodeId: string
  readonly epoch: number
  readonly decisions: readonly DecisionRecord[]
  readonly resolutions: readonly ResolutionRecord[]
  /** gtrids whose END goes in this batch. */
  readonly ends: readonly string[]
}

/** Whether the fence let the batch in, and which decisions were inserted (one refused has a row already: an abort marker, or another). */
export interface BatchAnswer {
  readonly fenced_in: boolean
  readonly decided: string[]
}

export async function writeBatchStatement(client: pg.PoolClient, b: BatchRows): Promise<BatchAnswer> {
  const r = await client.query<BatchAnswer>(BATCH_SQL, [
    b.nodeId,
    b.epoch,
    b.decisions.map((d) => d.gtrid),
    b.decisions.map((d) => JSON.stringify(d.branches)),
    b.decisions.map((d) => d.at),
    b.resolutions.map((r) => r.gtrid),
    b.resolutions.map((r) => JSON.stringify(r)),
    b.ends,
    b.decisions.map((d) => d.trace ?? null),
  ])
  return r.rows[0]!
}

/**
 * Settles decisions whose batch's answer was lost (the statement may have
 * committed, or may still be running): afterwards none of them can land any
 * more, and the ones that did are returned.
 */
export async function settleLostDecisions(pool: pg.Pool, nodeId: string, gtrids: readonly string[]): Promise<Set<string>> {
  // Where this node's own resolution row is (a forced resolution of a transaction live here), the decision
  // would be written over it: zero its epoch, which the lost statement requires (BATCH_SQL), waiting for
  // that statement if it holds the row. The marker below cannot go over that row.
  await pool.query("UPDATE arbiter_transactions SET epoch = 0 WHERE gtrid = ANY($2::text[]) AND outcome = 'resolved' AND owner = $1", [nodeId, gtrids])
  // A marker where no decision is: the key makes it wait for the lost statement if that still runs.
  await pool.query(
    `INSERT INTO arbiter_transactions (gtrid, owner, outcome, decided_ms, epoch, ended_at)
     SELECT g, $1, 'abort', 0, 0, now() FROM unnest($2::text[]) AS g ON CONFLICT (gtrid) DO NOTHING`,
    [nodeId, gtrids],
  )
  // A statement of its own: a fresh snapshot sees a decision that committed while the marker waited.
  const r = await pool.query<{ gtrid: string; outcome: string }>('SELECT gtrid, outcome FROM arbiter_transactions WHERE gtrid = ANY($1::text[])', [gtrids])
  return new Set(r.rows.filter((row) => row.outcome === 'commit').map((row) => row.gtrid))
}
