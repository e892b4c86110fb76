// Takeover of a dead node's work (log.store: postgres).
//
// Every interval, a node that holds its own lease looks for members whose
// lease has lapsed and that nobody live has taken over. For each, in one
// store transaction: bump its epoch (from then on the store refuses every
// write it attempts: node-lease.ts, postgres-decision-log.ts), then move its
// unfinished transactions to this node. The bump is a statement of its own,
// before the move: it waits for any write of the old owner that holds the
// row (FOR SHARE), so the move's fresh snapshot sees every decision that
// made it. Then recovery runs here: the decisions are committed again, and
// the dead node's orphans (prepared, no decision) are presumed aborted, each
// after a marker that keeps any node from ever logging a decision for it.
//
// A node stays adopted until it rejoins (its lease is live again): its own
// restart then handles what it named before (the earlier-run rule, recovery.ts).
import type pg from 'pg'
import type { Logger } from '../logger.js'
import type { PostgresDecisionLog } from '../log/postgres-decision-log.js'
import type { NodeLease } from './node-lease.js'
import { inRootSpan } from '../tracing/spans.js'

export interface TakeoverEvent {
  readonly nodeId: string
  /** The epoch the taken node holds now (its old one is fenced out). */
  readonly epoch: number
  /** Unfinished transactions moved to this node. */
  readonly moved: number
  readonly durationMs: number
}

export interface TakeoverOptions {
  readonly intervalMs: number
  readonly logger: Logger
}

export class Takeover {
  /** Taken-over nodes, with when each first joined this store (its orphans named before then are not this store's). */
  private readonly adopted = new Map<string, number | undefined>()
  /** node@epoch lapses already said to be left for lack of resources. */
  private readonly warnedLacking = new Set<string>()
  private timer: NodeJS.Timeout | undefined
  private running: Promise<TakeoverEvent[]> | undefined
  readonly history: TakeoverEvent[] = []
  /** Takeovers by this node since start, and the transactions they moved (metrics). */
  readonly totals = { takeovers: 0, moved: 0 }
  /** Other nodes whose lease was live at the last pass (the members gauge; stale while this node holds no lease). */
  livePeers = 0
  /** Runs after each takeover: a recovery pass that finishes what was taken over (set once recovery exists). */
  onTakenOver: (event: TakeoverEvent) => void = () => undefined
  /** The identity tag of this node's resource (ResourceRegistry.identityTag), once resources exist. */
  identityTagOf: (resource: string) => string | undefined = () => undefined

  constructor(
    private readonly pool: pg.Pool,
    private readonly lease: NodeLease,
    private readonly log: PostgresDecisionLog,
    private readonly o: TakeoverOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.pass().catch((error: unknown) => this.o.logger.warn({ err: String(error) }, 'takeover pass failed')), this.o.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  /** True while this node has taken `nodeId` over and it has not rejoined: its orphans are this node's to presume aborted. */
  adopts(nodeId: string): boolean {
    return this.adopted.has(nodeId)
  }

  /** When an adopted node first joined this store (ms, by that node's clock, as its gtrids); undefined when not known or not adopted. */
  firstJoinedAt(nodeId: string): number | undefined {
    return this.adopted.get(nodeId)
  }

  /** Forgets every adoption (this node lost its own lease). */
  clear(): void {
    this.adopted.clear()
  }

  /** One pass; concurrent callers share it. */
  pass(): Promise<TakeoverEvent[]> {
    this.running ??= this.passOnce().finally(() => (this.running = undefined))
    return this.running
  }

  private async passOnce(): Promise<TakeoverEvent[]> {
    const me = this.lease.nodeId
    if (!this.lease.held) return []
    const rows = (
      await this.pool.query<{ node_id: string; epoch: string; live: boolean; mine: boolean; takeable: boolean; resources: string[] | null; resource_tags: Record<string, string> | null }>(
        `SELECT n.node_id, n.epoch::text, n.resources, n.resource_tags, n.lease_expires_at > now() AS live, n.taken_over_by IS NOT DISTINCT FROM $1 AS mine,
                n.lease_expires_at <= now() AND (n.taken_over_by IS NULL OR n.taken_over_at < n.joined_at OR n.taken_over_by = $1
                  OR t.lease_expires_at IS NULL OR t.lease_expires_at <= now()) AS takeable
         FROM arbiter_nodes n LEFT JOIN arbiter_nodes t ON t.node_id = n.taken_over_by
         WHERE n.node_id <> $1`,
        [me],
      )
    ).rows
    this.livePeers = rows.filter((r) => r.live).length
    // A node that rejoined (or that another live node took over) is not this one's any more.
    for (const row of rows) if (row.live || !row.mine) this.adopted.delete(row.node_id)
    const events: TakeoverEvent[] = []
    for (const row of rows) {
      if (!row.takeable || (row.mine && this.adopted.has(row.node_id))) continue
      if (this.lacksResources(row.node_id, row.epoch, row.resources)) continue
      if (this.reachesOtherServersThan(row.node_id, row.epoch, row.resource_tags)) continue
      // A failed look at one node skips it this pass, not the whole pass (found by review).
      if (await this.reachesOtherServers(row.node_id, row.epoch).catch(() => true)) continue
      const event = await this.takeOver(row.node_id, Number(row.epoch))
      if (event) events.push(event)
    }
    return events
  }

  /**
   * Whether this node lacks a resource the lapsed node has: taking it over
   * would leave that resource's branches prepared for good, its decided ones
   * and its orphans alike, since no other node finishes a taken node's work
   * (found by hostile testing). A node with every one of them takes it over;
   * with none, its work waits for it to come back. Said once per lapse.
   */
  private lacksResources(nodeId: string, epoch: string, theirs: readonly string[] | null): boolean {
    const mine = new Set(this.lease.resources)
    const missing = (theirs ?? []).filter((r) => !mine.has(r))
    if (missing.length === 0) return false
    this.notTaking(`${nodeId}@${epoch}:missing`, { takenNodeId: nodeId, missing }, 'has resources this node is not configured with: not taking it over (a node configured with all of them will, or its own restart)')
    return true
  }

  /** Says once per lapse (key) why this node does not take a lapsed node over. */
  private notTaking(key: string, fields: Record<string, unknown>, why: string): void {
    if (this.warnedLacking.has(key)) return
    this.warnedLacking.add(key)
    this.o.logger.warn(fields, `a node whose lease lapsed ${why}`)
  }

  /**
   * Whether a resource of this node reaches another server than the lapsed
   * node's resource of the same name did (its last renewal said where), or
   * is not known here yet. Its undecided branches there would be left
   * prepared for good: this node's recovery lists only where its own
   * resource reaches (found by hostile testing: a node whose "pg" named
   * another database took over, rolled back the MariaDB half of an orphan
   * and left its PostgreSQL half holding its row locks, seen by no node).
   */
  private reachesOtherServersThan(nodeId: string, epoch: string, theirs: Record<string, string> | null): boolean {
    const differing = Object.entries(theirs ?? {}).filter(([resource, tag]) => this.identityTagOf(resource) !== tag)
    if (differing.length === 0) return false
    this.notTaking(
      `${nodeId}@${epoch}:servers`,
      { takenNodeId: nodeId, resources: differing.map(([resource]) => resource) },
      "has resources that reach other servers or databases than this node's of the same name (another url), or not known here yet: not taking it over (a node whose resources reach them will, or its own restart)",
    )
    return true
  }

  /**
   * Whether a resource of this node reaches another server than the one a
   * branch of the lapsed node's decided transactions was prepared on (its
   * url names another Redis database, prefix, or PostgreSQL server). Found
   * by hostile testing: such a takeover could never finish those branches
   * (phase 2 would hear "unknown XID" there), and the lapsed node, back,
   * would have nothing left to finish. Said once per lapse.
   */
  private async reachesOtherServers(nodeId: string, epoch: string): Promise<boolean> {
    const rows = (
      await this.pool.query<{ resource: string; tag: string }>(
        `SELECT DISTINCT b->>'resource' AS resource, b->>'on' AS tag
         FROM arbiter_transactions t, jsonb_array_elements(t.branches) b
         WHERE t.owner = $1 AND t.ended_at IS NULL AND b ? 'on'`,
        [nodeId],
      )
    ).rows
    // Not known here yet (the resource still connecting): not taken either, until it is (found by review).
    const differing = rows.filter((r) => this.identityTagOf(r.resource) !== r.tag)
    if (differing.length === 0) return false
    this.notTaking(
      `${nodeId}@${epoch}:decided`,
      { takenNodeId: nodeId, resources: [...new Set(differing.map((r) => r.resource))] },
      "has decided branches on servers this node's resources of the same name do not reach (another url), or not known here yet: not taking it over (a node whose resources reach them will, or its own restart)",
    )
    return true
  }

  private takeOver(nodeId: string, epoch: number): Promise<TakeoverEvent | undefined> {
    return Promise.resolve(
      inRootSpan('arbiter.takeover', { 'arbiter.taken_node': nodeId, 'arbiter.node': this.lease.nodeId }, async (span) => {
        const event = await this.takeOverOnce(nodeId, epoch)
        span.setAttribute('arbiter.taken_over', event !== undefined)
        if (event) span.setAttribute('arbiter.transactions_moved', event.moved)
        return event
      }),
    )
  }

  private async takeOverOnce(nodeId: string, epoch: number): Promise<TakeoverEvent | undefined> {
    const started = performance.now()
    const me = this.lease.nodeId
    const client = await this.pool.connect()
    let moved: string[]
    let newEpoch: number
    let firstJoined: number | undefined
    try {
      await client.query('BEGIN')
      // This node's own lease, held and locked for the whole takeover: a node that lost its lease takes nothing.
      const bumped = await client.query<{ epoch: string; first_joined_ms: number | null }>(
        `WITH me AS (SELECT 1 FROM arbiter_nodes WHERE node_id = $1 AND epoch = $2 AND lease_expires_at > now() FOR SHARE)
         UPDATE arbiter_nodes SET epoch = epoch + 1, taken_over_by = $1, taken_over_at = now(), takeovers = takeovers + 1
         WHERE node_id = $3 AND epoch = $4 AND lease_expires_at <= now() AND EXISTS (SELECT 1 FROM me)
         RETURNING epoch::text, first_joined_ms::float8 AS first_joined_ms`,
        [me, this.lease.epoch, nodeId, epoch],
      )
      if (bumped.rowCount !== 1) {
        await client.query('ROLLBACK')
        return undefined // it renewed, rejoined, or another node was first
      }
      newEpoch = Number(bumped.rows[0]!.epoch)
      firstJoined = bumped.rows[0]!.first_joined_ms ?? undefined
      // A statement of its own, after the bump: its snapshot holds every decision the old owner got in.
      moved = (
        await client.query<{ gtrid: string }>(`UPDATE arbiter_transactions SET owner = $1 WHERE owner = $2 AND ended_at IS NULL RETURNING gtrid`, [me, nodeId])
      ).rows.map((r) => r.gtrid)
      await client.query('COMMIT')
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined)
      throw error
    } finally {
      client.release()
    }
    await this.log.adopt(moved)
    this.adopted.set(nodeId, firstJoined)
    const event: TakeoverEvent = { nodeId, epoch: newEpoch, moved: moved.length, durationMs: Math.round(performance.now() - started) }
    this.history.push(event)
    this.totals.takeovers++
    this.totals.moved += moved.length
    if (this.history.length > 100) this.history.shift()
    // takenNodeId/takenEpoch: the line's own node and epoch are this node's (found by hostile testing: they were the taken node's).
    this.o.logger.warn(
      { takenNodeId: nodeId, takenEpoch: newEpoch, moved: event.moved, durationMs: event.durationMs, by: me },
      'took over a node whose lease lapsed: finishing its decided transactions, presuming its orphans aborted',
    )
    this.onTakenOver(event)
    return event
  }
}
