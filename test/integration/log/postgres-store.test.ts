// The shared PostgreSQL store beyond the contract both stores keep
// (decision-log-contract.test.ts): what it refuses because it cannot make it
// durable (a fenced node, a marker, a lost answer), presumed abort in a
// cluster, other nodes' rows, the sweep, and its schema's migration.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { NodeLease } from '../../../server/cluster/node-lease.js'
import { migrateStore, STORE_SCHEMA_VERSION } from '../../../server/cluster/store-schema.js'
import { sweepEnded } from '../../../server/cluster/store-sweep.js'
import { LogWriteError } from '../../../server/log/decision-log.js'
import { LeaseLostError, PostgresDecisionLog } from '../../../server/log/postgres-decision-log.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { postgresStore, branches, logger } from './log-stores.js'

describe('the postgres store refuses what it cannot make durable', () => {
  let store: Awaited<ReturnType<typeof postgresStore>>
  beforeAll(async () => {
    store = await postgresStore()
  })
  afterAll(async () => {
    await store?.cleanup()
  })

  it("a node whose epoch was bumped (taken over) writes nothing: LeaseLostError, and the decision is not in the store", async () => {
    const log = await store.open()
    await store.pool.query("UPDATE arbiter_nodes SET epoch = epoch + 1, lease_expires_at = now() - interval '1 second'")
    const error = await log.appendDecision('g-fenced', branches).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LeaseLostError)
    expect(error).toBeInstanceOf(LogWriteError) // the commit protocol answers ABORTED for it
    expect((await store.pool.query('SELECT 1 FROM arbiter_transactions WHERE gtrid = $1', ['g-fenced'])).rowCount).toBe(0)
    expect(log.get('g-fenced')).toBeUndefined()
    await log.close()
  })

  it('an END queued before the node rejoined at a new epoch is still written (its phase 2 is done whatever the epoch)', async () => {
    const log = await store.openWith(undefined, { endWaitMs: 2000 })
    await log.appendDecision('contract-1:end-across-epochs', branches)
    const end = log.appendEnd('contract-1:end-across-epochs') // waits for company
    // The lease lapsed without a takeover; the node joins again, at the next epoch, its rows still its own.
    await store.pool.query("UPDATE arbiter_nodes SET lease_expires_at = now() - interval '1 second'")
    await store.lease().join()
    await log.appendDecision('contract-1:after-rejoin', branches) // the END rides with it
    await expect(end).resolves.toBeUndefined()
    const row = await store.pool.query<{ ended: boolean }>('SELECT ended_at IS NOT NULL AS ended FROM arbiter_transactions WHERE gtrid = $1', ['contract-1:end-across-epochs'])
    expect(row.rows[0]?.ended).toBe(true)
    await log.close()
  })

  it("a decision over this node's own resolution row is written; one whose answer was lost never lands later", async () => {
    const log = await store.open()
    // A forced resolution of a branch while its transaction was live here, then its decision: written over the row.
    await log.appendResolution({ gtrid: 'contract-1:resolved-live', resource: 'pg', bqual: '00aa', action: 'commit', operator: 'ops', reason: 'by hand', heuristic: true })
    await log.appendDecision('contract-1:resolved-live', branches)
    expect((await store.pool.query<{ outcome: string }>('SELECT outcome FROM arbiter_transactions WHERE gtrid = $1', ['contract-1:resolved-live'])).rows[0]?.outcome).toBe('commit')
    await log.close()

    // The same, but the decision's statement blocks (a session holds the node's row) and its client gives up: the
    // Commit is told the decision is not there, so the statement, once unblocked, must not write it after all.
    const impatient = new pg.Pool({ connectionString: (store.pool as unknown as { options: { connectionString: string } }).options.connectionString, max: 2, query_timeout: 500 })
    impatient.on('error', () => undefined)
    const blocked = new PostgresDecisionLog({ pool: impatient, fence: store.lease(), option: 'log.url' })
    await blocked.open()
    const gtrid = 'contract-1:resolved-lost'
    await blocked.appendResolution({ gtrid, resource: 'pg', bqual: '00aa', action: 'commit', operator: 'ops', reason: 'by hand', heuristic: true })
    const holder = await store.pool.connect()
    try {
      await holder.query('BEGIN')
      await holder.query("UPDATE arbiter_nodes SET address = address WHERE node_id = 'contract-1'")
      const error = await blocked.appendDecision(gtrid, branches).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(LogWriteError)
      expect((error as Error).message).toMatch(/not there and never will be/)
    } finally {
      await holder.query('COMMIT')
      holder.release()
    }
    // The lost statement runs to its end now; it must find nothing to write.
    await expect
      .poll(async () => (await store.pool.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'WITH fence AS%' AND state = 'active'")).rows[0]?.n, { timeout: 5000, interval: 50 })
      .toBe(0)
    expect((await store.pool.query<{ outcome: string }>('SELECT outcome FROM arbiter_transactions WHERE gtrid = $1', [gtrid])).rows[0]?.outcome).toBe('resolved')
    await blocked.close()
    await impatient.end()
  })

  it('a decision over a presumed-abort marker is refused', async () => {
    const log = await store.open()
    await store.pool.query("INSERT INTO arbiter_transactions (gtrid, owner, outcome, decided_ms, epoch, ended_at) VALUES ('g-marked', 'other', 'abort', 0, 0, now())")
    const error = await log.appendDecision('g-marked', branches).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogWriteError)
    expect((error as Error).message).toMatch(/presumed aborted/)
    expect((await store.pool.query<{ outcome: string }>('SELECT outcome FROM arbiter_transactions WHERE gtrid = $1', ['g-marked'])).rows[0]?.outcome).toBe('abort')
    await log.close()
  })

  it('presumed abort in a cluster: marked first; a decision already there is committed by its owner, left to another; a rejoined node is left alone', async () => {
    const log = (await store.open()) as PostgresDecisionLog
    const me = 'contract-1'
    // This node's own orphan: marked, and from then on no decision can land.
    expect(await log.presumeAborted('contract-1:own-orphan', me)).toBe('aborted')
    expect((await log.appendDecision('contract-1:own-orphan', branches).catch((e: unknown) => e)) instanceof LogWriteError).toBe(true)
    // Its own decision got in first (a lost answer, a reopen): commit it, never roll it back.
    await log.appendDecision('contract-1:decided', branches)
    expect(await log.presumeAborted('contract-1:decided', me)).toBe('decided')
    // Moved to the node that took this one over: that node drives it.
    await store.pool.query("UPDATE arbiter_transactions SET owner = 'other' WHERE gtrid = 'contract-1:decided'")
    expect(await log.presumeAborted('contract-1:decided', me)).toBe('theirs')
    // Another node's orphan while that node is not taken over by this one: refused, nothing written.
    await store.pool.query(
      "INSERT INTO arbiter_nodes VALUES ('peer', 1, 'i', 'a', now() + interval '1 hour', now(), now(), NULL, NULL, 0)",
    )
    expect(await log.presumeAborted('peer:orphan', 'peer')).toBe('refused')
    expect((await store.pool.query("SELECT 1 FROM arbiter_transactions WHERE gtrid = 'peer:orphan'")).rowCount).toBe(0)
    // Taken over by this node and lapsed: marked.
    await store.pool.query("UPDATE arbiter_nodes SET lease_expires_at = now() - interval '1 second', taken_over_by = 'contract-1', taken_over_at = now() WHERE node_id = 'peer'")
    expect(await log.presumeAborted('peer:orphan', 'peer')).toBe('aborted')
    await log.close()
  })

  it('decisions written while the log reloads (a rejoin) are in the index it builds', async () => {
    const log = (await store.open()) as PostgresDecisionLog
    const gtrids: string[] = []
    const appends: Promise<void>[] = []
    // Reload after reload while decisions keep landing: each batch applied between a reload's read and its swap must survive it.
    for (let round = 0; round < 20; round++) {
      const reloading = log.load()
      for (let i = 0; i < 10; i++) {
        const g = `contract-1:reload-${round}-${i}`
        gtrids.push(g)
        appends.push(log.appendDecision(g, branches))
        await new Promise((resolve) => setTimeout(resolve, 1))
      }
      await reloading
    }
    await Promise.all(appends)
    expect(gtrids.filter((g) => log.get(g)?.decision === undefined)).toEqual([])
    await log.close()
  })

  it("lookUp reads another node's transaction without taking it in: a decision (ended or not) is found, a marker or nothing is not", async () => {
    const log = (await store.open()) as PostgresDecisionLog
    await store.pool.query(
      `INSERT INTO arbiter_transactions (gtrid, owner, outcome, branches, decided_ms, epoch, ended_at) VALUES
         ('other:driving', 'other', 'commit', '[{"resource":"pg","bqual":"b1"}]', 1, 1, NULL),
         ('other:ended', 'other', 'commit', '[]', 1, 1, now()),
         ('other:marked', 'other', 'abort', '[]', 0, 0, now())`,
    )
    expect(await log.lookUp('other:driving')).toMatchObject({ ended: false, decision: { gtrid: 'other:driving', branches: [{ resource: 'pg', bqual: 'b1' }] } })
    expect(await log.lookUp('other:ended')).toMatchObject({ ended: true, decision: { gtrid: 'other:ended' } })
    expect(await log.lookUp('other:marked')).toBeUndefined()
    expect(await log.lookUp('other:never')).toBeUndefined()
    // Not this node's to drive: not in its index, not among its unfinished.
    expect(log.get('other:driving')).toBeUndefined()
    expect(log.unfinished().map((t) => t.gtrid)).not.toContain('other:driving')
    await log.close()
  })

  it('commit delay (log.commitDelayMs): decisions trickling in share store commits when enough siblings are busy', async () => {
    const trickle = async (log: PostgresDecisionLog, tag: string): Promise<number> => {
      const before = log.stats().fsyncs
      const appends: Promise<void>[] = []
      for (let i = 0; i < 40; i++) {
        appends.push(log.appendDecision(`contract-1:${tag}-${i}`, branches))
        await new Promise((r) => setTimeout(r, 1))
      }
      await Promise.all(appends)
      const writes = log.stats().fsyncs - before
      await log.close()
      return writes
    }
    const plain = await trickle(await store.openWith(), 'plain')
    const delayed = await trickle(await store.openWith({ maxDelayMs: 50, minSiblings: 5, batchFraction: 0.5, siblings: () => 20 }), 'delayed')
    console.log(`40 decisions a millisecond apart: ${plain} store writes without the commit delay, ${delayed} with it`)
    expect(delayed).toBeLessThan(plain)
    // Batches of 10 (half of 20), the first decision or two aside (no arrival rate known yet).
    expect(delayed).toBeLessThanOrEqual(8)
    const log = await store.openWith()
    for (let i = 0; i < 40; i++) expect(log.get(`contract-1:delayed-${i}`)?.decision).toBeDefined()
    await log.close()
  })

  it("an END never ends another node's row (its phase 2 may still be running); unfinishedOf lists other nodes' unfinished rows with their owners", async () => {
    const log = (await store.open()) as PostgresDecisionLog
    await store.pool.query(
      `INSERT INTO arbiter_transactions (gtrid, owner, outcome, branches, decided_ms, epoch, ended_at) VALUES
         ('other:phase2', 'other', 'commit', '[{"resource":"pg","bqual":"b1"}]', 1, 1, NULL),
         ('other:done', 'other', 'commit', '[]', 1, 1, now())`,
    )
    // This node resolved a branch of it (forced, by hand) and then ends what it resolved: the row stays the owner's, unfinished.
    await log.appendResolution({ gtrid: 'other:phase2', resource: 'pg', bqual: 'b1', action: 'commit', operator: 'test', reason: 'by hand', heuristic: false })
    await log.appendEnd('other:phase2')
    const row = await store.pool.query<{ owner: string; ended: boolean }>("SELECT owner, ended_at IS NOT NULL AS ended FROM arbiter_transactions WHERE gtrid = 'other:phase2'")
    expect(row.rows[0]).toEqual({ owner: 'other', ended: false })
    await log.appendDecision('contract-1:mine', branches)
    const elsewhere = await log.unfinishedOf('contract-1')
    expect(elsewhere.map((e) => [e.owner, e.transaction.gtrid])).toContainEqual(['other', 'other:phase2'])
    expect(elsewhere.map((e) => e.transaction.gtrid)).not.toContain('other:done')
    expect(elsewhere.map((e) => e.transaction.gtrid)).not.toContain('contract-1:mine')
    await log.close()
  })

  it('the sweep deletes what ended more than log.retainEndedMs ago, with its resolutions, a thousand at a time; nothing unfinished, nothing heuristic', async () => {
    const log = (await store.open()) as PostgresDecisionLog
    const pool = store.pool
    for (const g of ['contract-1:sweep-old', 'contract-1:sweep-recent', 'contract-1:sweep-open', 'contract-1:sweep-heuristic']) await log.appendDecision(g, branches)
    await log.appendResolution({ gtrid: 'contract-1:sweep-old', resource: 'pg', bqual: '01', action: 'commit', operator: 'test', reason: 'sweep', heuristic: false })
    await log.appendEnd('contract-1:sweep-old')
    // A heuristic outcome keeps its records, however old (its audit trail, and what a view answers HEURISTIC from).
    await log.appendResolution({ gtrid: 'contract-1:sweep-heuristic', resource: 'pg', bqual: '01', action: 'rollback', operator: 'test', reason: 'forced', heuristic: true })
    await log.appendEnd('contract-1:sweep-heuristic')
    await log.appendEnd('contract-1:sweep-recent')
    // 2,500 more long ended (markers included), so the sweep needs several rounds.
    await pool.query(
      `INSERT INTO arbiter_transactions (gtrid, owner, outcome, decided_ms, epoch, ended_at)
       SELECT 'contract-1:sweep-bulk-' || i, 'contract-1', CASE WHEN i % 2 = 0 THEN 'commit' ELSE 'abort' END, 0, 1, now() - interval '3 hours' FROM generate_series(1, 2500) AS i`,
    )
    await pool.query("UPDATE arbiter_transactions SET ended_at = now() - interval '2 hours' WHERE gtrid IN ('contract-1:sweep-old', 'contract-1:sweep-heuristic')")
    const count = async (where: string): Promise<number> =>
      Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM arbiter_transactions WHERE ${where}`)).rows[0]!.n)
    expect(await sweepEnded(pool, 3_600_000)).toBe(2501)
    expect(await count("gtrid LIKE 'contract-1:sweep-bulk-%' OR gtrid = 'contract-1:sweep-old'")).toBe(0)
    expect((await pool.query("SELECT 1 FROM arbiter_resolutions WHERE gtrid = 'contract-1:sweep-old'")).rowCount).toBe(0)
    expect(await count("gtrid IN ('contract-1:sweep-recent', 'contract-1:sweep-open', 'contract-1:sweep-heuristic')")).toBe(3)
    expect((await pool.query("SELECT 1 FROM arbiter_resolutions WHERE gtrid = 'contract-1:sweep-heuristic'")).rowCount).toBe(1)
    expect(await sweepEnded(pool, 3_600_000)).toBe(0)
    await log.close()
  })

  it('a store that cannot be reached refuses the write (LogWriteError), it never resolves', async () => {
    const lease = store.lease()
    const unreachable = new pg.Pool({ connectionString: 'postgres://nobody@127.0.0.1:1/none', connectionTimeoutMillis: 500 })
    unreachable.on('error', () => undefined)
    const log = new PostgresDecisionLog({ pool: unreachable, fence: lease, option: 'log.url' })
    ;(log as unknown as { opened: boolean }).opened = true // open() would read the store: this checks the write path alone
    const error = await log.appendDecision('g-unreachable', branches).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(LogWriteError)
    expect(log.healthy()).toBe(true)
    await unreachable.end()
  })
})

describe('the postgres store schema', () => {
  it('a store at version 1 (before trace contexts, node resources, first joins and resource tags) migrates to the current version in place: its decisions stay, read back without a trace', async () => {
    const url = await createDatabase(sharedServerUrls().pgUrl, 'migrate')
    const pool = new pg.Pool({ connectionString: url, max: 2 })
    try {
      const client = await pool.connect()
      try {
        await migrateStore(client, 'log.url')
        // Back to what a version-1 Arbiter left: no trace column (2), no node resources (3), no first join (4), no
        // resource tags (5).
        await client.query('ALTER TABLE arbiter_transactions DROP COLUMN trace')
        await client.query('ALTER TABLE arbiter_nodes DROP COLUMN resources')
        await client.query('ALTER TABLE arbiter_nodes DROP COLUMN first_joined_ms')
        await client.query('ALTER TABLE arbiter_schema DROP COLUMN store_id')
        await client.query('ALTER TABLE arbiter_nodes DROP COLUMN resource_tags')
        await client.query('UPDATE arbiter_schema SET version = 1')
        await client.query(
          `INSERT INTO arbiter_transactions (gtrid, owner, outcome, branches, decided_ms, epoch) VALUES ('contract-1:v1', 'contract-1', 'commit', '[{"resource":"pg","bqual":"b1"}]', 1, 1)`,
        )
        expect(await migrateStore(client, 'log.url')).toEqual({ from: 1, to: STORE_SCHEMA_VERSION })
        expect(await migrateStore(client, 'log.url')).toEqual({ from: STORE_SCHEMA_VERSION, to: STORE_SCHEMA_VERSION })
      } finally {
        client.release()
      }
      const lease = new NodeLease(pool, { nodeId: 'contract-1', address: '127.0.0.1:1', resources: ['pg'], leaseMs: 2000, option: 'log.url', logger, onLost: () => undefined })
      await lease.join()
      const log = new PostgresDecisionLog({ pool, fence: lease, option: 'log.url' })
      await log.open()
      expect(log.get('contract-1:v1')?.decision).toEqual({ type: 'decision', gtrid: 'contract-1:v1', at: 1, branches: [{ resource: 'pg', bqual: 'b1' }] })
      await log.appendDecision('contract-1:v2', branches, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
      expect((await pool.query("SELECT trace FROM arbiter_transactions WHERE gtrid = 'contract-1:v2'")).rows[0]).toEqual({
        trace: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      })
      await log.close()
      lease.stop()
    } finally {
      await pool.end()
    }
  })
})
