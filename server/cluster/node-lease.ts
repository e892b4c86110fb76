// This node's membership in the cluster: its row in arbiter_nodes, its
// epoch, and a lease renewed in the store and timed by the store's clock.
//
// Safety never rests on the lease's timing: every write the lease protects
// (decision, resolution, END: postgres-decision-log.ts) checks, in the same
// statement, that this node still holds its lease at its epoch, and locks
// the row (FOR SHARE) against a takeover's epoch bump. The clock only
// decides when another node may take over (takeover.ts).
//
// Joining: a row whose lease has lapsed is taken with a new epoch. A row
// whose lease is live belongs either to this node's previous run (killed
// within its lease) or to a second live node with the same id: the joiner
// waits out the lease, and is refused if the row was renewed meanwhile.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import type { Logger } from '../logger.js'
import { StoreError } from './store-error.js'

/** cluster.maxClockOffsetMs's default. */
export const DEFAULT_MAX_CLOCK_OFFSET_MS = 500

export interface NodeLeaseOptions {
  readonly nodeId: string
  /** Where clients reach this node (cluster.advertiseAddress, else its listen address). */
  readonly address: string
  /** The resource names this node is configured with (recorded: Takeover takes only nodes whose resources it has). */
  readonly resources: readonly string[]
  readonly leaseMs: number
  /** How far this node's clock may be from the store's when it joins (cluster.maxClockOffsetMs; default 500). */
  readonly maxClockOffsetMs?: number
  /** The option that names the store, for messages. */
  readonly option: string
  readonly logger: Logger
  /** The lease was lost to a takeover (its epoch moved on): the node must stop deciding. */
  readonly onLost: (why: string) => void
}

export class NodeLease {
  readonly instance = randomUUID()
  private current = 0
  private firstJoined: number | undefined
  private timer: NodeJS.Timeout | undefined
  private renewing: Promise<void> | undefined
  private stopped = false
  /** performance.now() when the lease is known to run out, from the last renewal's start. */
  private validUntil = 0
  /** join(): the renewal time of the live lease it is waiting out (renewed again meanwhile: a second live node). */
  private lastSeenRenewal: string | null = null
  /** Leases lost since start (a takeover moved the epoch on): arbiter_cluster_leases_lost_total. */
  lostCount = 0
  /** Where clients reach this node: the configured one until advertise() names the bound port. */
  private address: string
  /**
   * Where this node's resources reach, as known now (resource name → identity tag), recorded with every renewal
   * (a join clears the last run's: its resources may have changed; found by review).
   */
  resourceTags: () => Record<string, string> = () => ({})

  constructor(
    private readonly pool: pg.Pool,
    private readonly o: NodeLeaseOptions,
  ) {
    this.address = o.address
  }

  /**
   * The address clients reach this node on, once its port is bound (a listen
   * address ending in ":0" names no port before). Kept for later joins too.
   */
  async advertise(address: string): Promise<void> {
    this.address = address
    if (this.current === 0) return
    await this.query('UPDATE arbiter_nodes SET address = $3 WHERE node_id = $1 AND epoch = $2', [this.o.nodeId, this.current, address], 'advertising its address')
  }

  /** Warns when another live member advertises this node's address: a copied cluster.advertiseAddress sends clients and the CLI looking for one node to the other. */
  async warnIfAddressShared(): Promise<void> {
    const address = this.address
    const same = await this.query<{ node_id: string }>(
      'SELECT node_id FROM arbiter_nodes WHERE address = $1 AND node_id <> $2 AND lease_expires_at > now()',
      [address, this.o.nodeId],
      'checking its advertised address',
    )
    if (same.rows.length > 0) {
      this.o.logger.warn(
        { nodeId: this.o.nodeId, address, alsoAdvertisedBy: same.rows.map((r) => r.node_id) },
        'another live member advertises this same address: requests meant for one of them reach the other (give each node its own cluster.advertiseAddress)',
      )
    }
  }

  /** The resource names this node is configured with. */
  get resources(): readonly string[] {
    return this.o.resources
  }

  get nodeId(): string {
    return this.o.nodeId
  }

  /** When this node first joined this store, by its own clock (ms since the epoch); undefined before it joins. */
  get firstJoinedAt(): number | undefined {
    return this.firstJoined
  }

  /** The epoch this node holds (0 before it joins). */
  get epoch(): number {
    return this.current
  }

  /** True while the last renewal is known to hold (by this node's monotonic clock: a hint, never a guarantee). */
  get held(): boolean {
    return this.current > 0 && performance.now() < this.validUntil
  }

  /**
   * Joins with a new epoch; waits out a live lease of this node id once, and refuses a second live node.
   * `signal` (a closing node) ends that wait: join() then throws and takes nothing.
   */
  async join(signal?: AbortSignal): Promise<void> {
    await this.checkClock()
    for (let attempt = 0; ; attempt++) {
      signal?.throwIfAborted()
      const started = performance.now()
      const r = await this.query<{ epoch: string | null; first_joined_ms: number | null; live_ms: number | null; renewed: string | null; instance: string | null; address: string | null }>(
        `WITH old AS (SELECT epoch, instance, address, renewed_at, lease_expires_at FROM arbiter_nodes WHERE node_id = $1 FOR UPDATE),
              taken AS (
                UPDATE arbiter_nodes n SET epoch = n.epoch + 1, instance = $2, address = $3, resources = $5::text[],
                       lease_expires_at = now() + $4 * interval '1 millisecond', renewed_at = now(), joined_at = now(),
                       first_joined_ms = COALESCE(n.first_joined_ms, $6), taken_over_by = NULL, taken_over_at = NULL,
                       resource_tags = NULL
                FROM old WHERE n.node_id = $1 AND old.lease_expires_at <= now()
                RETURNING n.epoch, n.first_joined_ms),
              fresh AS (
                INSERT INTO arbiter_nodes (node_id, epoch, instance, address, lease_expires_at, renewed_at, joined_at, first_joined_ms, resources)
                SELECT $1, 1, $2, $3, now() + $4 * interval '1 millisecond', now(), now(), $6, $5::text[] WHERE NOT EXISTS (SELECT 1 FROM old)
                ON CONFLICT (node_id) DO NOTHING
                RETURNING epoch, first_joined_ms)
         SELECT COALESCE((SELECT epoch FROM taken), (SELECT epoch FROM fresh))::text AS epoch,
                COALESCE((SELECT first_joined_ms FROM taken), (SELECT first_joined_ms FROM fresh))::float8 AS first_joined_ms,
                (SELECT EXTRACT(EPOCH FROM lease_expires_at - now()) * 1000 FROM old)::float8 AS live_ms,
                (SELECT renewed_at::text FROM old) AS renewed, (SELECT instance FROM old) AS instance, (SELECT address FROM old) AS address`,
        // Date.now(): by this node's clock, as its gtrids are named; taken before the join, so before any gtrid it names then.
        [this.o.nodeId, this.instance, this.address, this.o.leaseMs, [...this.o.resources], Date.now()],
        'joining the cluster',
      )
      const row = r.rows[0]!
      if (row.epoch !== null) {
        this.current = Number(row.epoch)
        if (row.first_joined_ms !== null) this.firstJoined = row.first_joined_ms
        this.validUntil = started + this.o.leaseMs
        this.o.logger.info({ nodeId: this.o.nodeId, epoch: this.current, leaseMs: this.o.leaseMs }, 'joined the cluster')
        return
      }
      if (row.live_ms === null) continue // the row appeared between the two looks: look again
      if (attempt > 0 && row.renewed !== this.lastSeenRenewal) {
        throw new StoreError(
          `node id "${this.o.nodeId}" is held by a live node (instance ${row.instance}, address ${row.address}, lease renewed at ${row.renewed}): ` +
            'two nodes cannot share a nodeId; give each node its own (nodeId or ARBITER_NODE_ID)',
          { option: 'nodeId', exitCode: 2 },
        )
      }
      this.lastSeenRenewal = row.renewed
      const waitMs = Math.max(0, Math.ceil(row.live_ms)) + 50
      this.o.logger.warn(
        { nodeId: this.o.nodeId, instance: row.instance, address: row.address, waitMs },
        'node id has a live lease (this node restarted within it, or another node uses this id): waiting it out',
      )
      await sleep(waitMs, undefined, signal && { signal })
    }
  }

  /** Renews every third of the lease until stop(). */
  start(): void {
    const every = Math.max(50, Math.floor(this.o.leaseMs / 3))
    this.timer = setInterval(() => void this.renew(), every)
    this.timer.unref()
  }

  /** One renewal (also awaited by tests); a failure to reach the store is retried at the next tick. */
  renew(): Promise<void> {
    this.renewing ??= this.renewOnce().finally(() => (this.renewing = undefined))
    return this.renewing
  }

  private async renewOnce(): Promise<void> {
    if (this.stopped || this.current === 0) return
    const started = performance.now()
    const epoch = this.current
    let r: pg.QueryResult<{ epoch: string }>
    try {
      // Renewing a lease that lapsed is safe at the same epoch: a takeover bumps the epoch first.
      r = await this.pool.query<{ epoch: string }>(
        `UPDATE arbiter_nodes SET lease_expires_at = now() + $4 * interval '1 millisecond', renewed_at = now(), resource_tags = $5::jsonb
         WHERE node_id = $1 AND epoch = $2 AND instance = $3 RETURNING epoch::text`,
        [this.o.nodeId, epoch, this.instance, this.o.leaseMs, JSON.stringify(this.resourceTags())],
      )
    } catch (error) {
      this.o.logger.warn({ err: (error as Error).message, leftMs: Math.round(this.validUntil - performance.now()) }, 'lease not renewed: the store did not answer')
      return
    }
    if (this.stopped || epoch !== this.current) return
    if (r.rowCount === 1) {
      this.validUntil = started + this.o.leaseMs
      return
    }
    this.lost(`another node took over node "${this.o.nodeId}" at a later epoch than ${epoch}`)
  }

  /** A protected write at `epoch` found the fence closed, or a renewal found the epoch moved on. */
  lost(why: string, epoch: number = this.current): void {
    if (this.current === 0 || this.stopped || epoch !== this.current) return // already rejoined at a later epoch
    this.o.logger.error({ nodeId: this.o.nodeId, epoch: this.current, why }, 'lease lost: this node stops deciding and rejoins with a new epoch')
    this.lostCount++
    this.current = 0
    this.validUntil = 0
    this.o.onLost(why)
  }

  /** Graceful stop: gives the lease up, so another node may take over what is left at once. */
  async release(): Promise<void> {
    this.stopped = true
    clearInterval(this.timer)
    await this.renewing?.catch(() => undefined)
    if (this.current === 0) return
    await this.pool
      .query(`UPDATE arbiter_nodes SET lease_expires_at = now() WHERE node_id = $1 AND epoch = $2 AND instance = $3`, [this.o.nodeId, this.current, this.instance])
      .catch((error: unknown) => this.o.logger.warn({ err: (error as Error).message }, 'lease not released: it lapses by itself'))
  }

  stop(): void {
    this.stopped = true
    clearInterval(this.timer)
  }

  /**
   * Refuses to join (exit 2) with a clock further from the store's than
   * cluster.maxClockOffsetMs. The node names its gtrids by its own clock, and
   * first_joined_ms is by that clock too: recovery never presumes aborted a
   * gtrid named before its node first joined the store (its decision may be in
   * another log). Found by hostile testing: a node 5 s behind at its first
   * join of the wrong store presumed aborted what its real store held
   * committed, and one an hour ahead left every later orphan of its own
   * prepared, holding its locks, for an operator.
   */
  private async checkClock(): Promise<void> {
    const maxMs = this.o.maxClockOffsetMs ?? DEFAULT_MAX_CLOCK_OFFSET_MS
    const before = Date.now()
    const r = await this.query<{ now_ms: number }>('SELECT (extract(epoch FROM clock_timestamp()) * 1000)::float8 AS now_ms', [], "reading the store's clock")
    const after = Date.now()
    // The store read its clock somewhere within the round trip: only what lies beyond that is known to be off.
    const offset = (before + after) / 2 - r.rows[0]!.now_ms
    if (Math.abs(offset) - (after - before) / 2 <= maxMs) return
    throw new StoreError(
      `this node's clock is ${Math.round(Math.abs(offset))} ms ${offset > 0 ? 'ahead of' : 'behind'} the shared store's (PostgreSQL's clock_timestamp()), ` +
        `more than cluster.maxClockOffsetMs (${maxMs} ms): a cluster node names its transactions by its clock, and recovery judges them by it. ` +
        'Synchronize the clocks (NTP, chrony) of the nodes and the store',
      { option: 'cluster.maxClockOffsetMs', exitCode: 2 },
    )
  }

  private async query<R extends pg.QueryResultRow>(sql: string, params: unknown[], doing: string): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(sql, params)
    } catch (error) {
      throw StoreError.from(error, this.o.option, doing)
    }
  }
}
