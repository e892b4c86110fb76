// The decision log in a shared PostgreSQL database (log.store: postgres),
// for a cluster of nodes (server/cluster/, docs/cluster.md).
//
// - Group commit as in the file store: records that arrive while a write
//   runs go out together in the next one. A batch is ONE statement, so one
//   round trip and one store commit (what the fsyncs-per-commit figure counts).
// - The fence: that statement writes nothing unless this node still holds its
//   lease at its epoch, checked and row-locked (FOR SHARE) in the statement
//   itself. A takeover's epoch bump updates that row, so the two serialize:
//   either the decision commits first and the taker reads it, or the bump
//   does and the decision is refused (LeaseLostError: not logged, so the
//   Commit answers ABORTED, never COMMITTED).
// - One row per transaction (gtrid is the primary key): a decision cannot be
//   inserted over a presumed abort written by a node that took this one over,
//   whatever the clocks say; it is refused the same way.
// - A store commit whose answer is lost (the connection dropped) is settled
//   before anyone is answered: an abort marker is inserted for each decision
//   of the batch; the primary key makes it wait for, and lose to, a decision
//   that did commit. Until settled, the log is not healthy (nothing is
//   presumed aborted) and those Commits wait.
// - END marks the row ended; ended rows are deleted after log.retainEndedMs
//   (server/cluster/store-sweep.ts).
import type pg from 'pg'
import { StoreError } from '../cluster/store-error.js'
import { failpoint } from '../failpoints.js'
import { DecisionIndex } from './decision-index.js'
import { settleLostDecisions, writeBatchStatement, type BatchAnswer } from './postgres-log-batch.js'
import { readStoreRows } from './postgres-log-reads.js'
import { EndWait } from './end-wait.js'
import { FlushLoop } from './flush-loop.js'
import { BatchWait, type CommitDelayOptions } from './commit-delay.js'
import { LogWriteError, type DecisionLog, type DecisionLogStats, type EndOptions, type LoggedTransaction } from './decision-log.js'
import type { DecisionRecord, LogRecord, LoggedBranch, ResolutionRecord } from './log-record.js'

/** The node's fence, as the log needs it (node-lease.ts). */
export interface Fence {
  readonly nodeId: string
  /** 0 while the node holds no lease (lost, rejoining): every write is refused. */
  readonly epoch: number
  /** False once renewals have failed for a whole lease (this node's clock: a hint; the store decides). */
  readonly held: boolean
  /** A write made at `epoch` found the fence closed (ignored when the node has moved on from that epoch). */
  lost(why: string, epoch: number): void
  /** When this node first joined this store (its own clock, ms); undefined before it joins. */
  readonly firstJoinedAt?: number | undefined
}

/** The node lost its lease: nothing of the batch was written. */
export class LeaseLostError extends LogWriteError {}

export interface PostgresDecisionLogOptions {
  readonly pool: pg.Pool
  readonly fence: Fence
  /** The option naming the store, for messages. */
  readonly option: string
  readonly onBatch?: (records: number) => void
  readonly onWrite?: (error?: unknown) => void
  /** Group commit under load, as the file store does (commit-delay.ts): a batch with a decision may wait for more. */
  readonly commitDelay?: CommitDelayOptions
  /** How long ENDs alone wait for a decision's write (end-wait.ts; default END_WAIT_MS). */
  readonly endWaitMs?: number
}

interface Pending {
  readonly record: LogRecord
  /** An END written without the END wait (appendEnd's `now`). */
  readonly urgent?: boolean
  /** The epoch when it was appended: a record of an earlier epoch is never written under a later one (but an END: writeBatch). */
  readonly epoch: number
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

/** How many ended transactions open() reads back, as the file store remembers them after a restart. */
const REMEMBERED_ENDED = 50_000

export class PostgresDecisionLog implements DecisionLog {
  private index = new DecisionIndex()
  private queue: Pending[] = []
  private readonly flushLoop = new FlushLoop(() => this.flush(), () => this.queue.length > 0)
  private opened = false
  /** Decisions whose store commit's answer was lost, not settled yet: the log is not healthy meanwhile. */
  private unsettled = 0
  private counters = { records: 0, fsyncs: 0, batches: 0 }

  private readonly batchWait: BatchWait
  private readonly endWait: EndWait

  constructor(private readonly o: PostgresDecisionLogOptions) {
    this.batchWait = new BatchWait(o.commitDelay)
    this.endWait = new EndWait(o.endWaitMs)
  }

  async open(): Promise<void> {
    await this.load()
    this.opened = true
  }

  /** (Re)reads what this node owns: its unfinished transactions and its recently ended ones. */
  async load(): Promise<void> {
    // Records this node writes while the store is read (a rejoin reloads with new Commits running) go into both.
    const meanwhile: LogRecord[] = []
    this.applying = meanwhile
    try {
      const index = await this.read()
      for (const record of meanwhile) index.apply(record)
      this.index = index
    } finally {
      this.applying = undefined
    }
  }

  /** Records applied while load() reads: replayed into the index it builds. */
  private applying: LogRecord[] | undefined

  private apply(record: LogRecord): void {
    this.index.apply(record)
    this.applying?.push(record)
  }

  private async read(): Promise<DecisionIndex> {
    const index = new DecisionIndex()
    await this.readInto(index, 'owner = $1 AND ended_at IS NULL', [this.o.fence.nodeId], 'reading its unfinished transactions')
    await this.readInto(
      index,
      `gtrid IN (SELECT gtrid FROM arbiter_transactions WHERE owner = $1 AND ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT ${REMEMBERED_ENDED})`,
      [this.o.fence.nodeId],
      'reading its ended transactions',
      true,
    )
    // Ended with an operator's heuristic resolution: whatever their age, the index keeps those it finds mixed.
    await this.readInto(
      index,
      `owner = $1 AND ended_at IS NOT NULL AND gtrid IN (SELECT gtrid FROM arbiter_resolutions WHERE record->>'heuristic' = 'true')`,
      [this.o.fence.nodeId],
      'reading its heuristic transactions',
      true,
    )
    return index
  }

  /** Adds transactions a takeover moved to this node (their rows, as the takeover's statement returned them). */
  async adopt(gtrids: readonly string[]): Promise<void> {
    if (gtrids.length === 0) return
    await this.readInto(this.index, 'gtrid = ANY($1::text[])', [gtrids], 'reading the transactions it took over')
  }

  /** Every other node's unfinished transactions (decided or resolved) with their owners: for operators (server/cluster/holders.ts). */
  async unfinishedOf(notOwner: string): Promise<{ readonly owner: string; readonly transaction: LoggedTransaction }[]> {
    const found = new DecisionIndex()
    const owners = await this.readInto(found, 'owner <> $1 AND ended_at IS NULL', [notOwner], "reading other nodes' unfinished transactions")
    return found.unfinished().map((transaction) => ({ owner: owners.get(transaction.gtrid)!, transaction }))
  }

  /** readStoreRows with this log's pool and option. */
  private readInto(index: DecisionIndex, where: string, params: unknown[], doing: string, ended = false): Promise<Map<string, string>> {
    return readStoreRows({ pool: this.o.pool, option: this.o.option }, index, { where, params, doing, ended })
  }

  appendDecision(gtrid: string, branches: readonly LoggedBranch[], trace?: string): Promise<void> {
    return this.enqueue({ type: 'decision', gtrid, at: Date.now(), branches, ...(trace !== undefined && { trace }) })
  }

  /** `committed` is not needed here: the row keeps its outcome. */
  appendEnd(gtrid: string, options?: EndOptions): Promise<void> {
    return this.enqueue({ type: 'end', gtrid, at: Date.now() }, options?.now === true)
  }

  appendResolution(record: Omit<ResolutionRecord, 'type' | 'at'>): Promise<void> {
    return this.enqueue({ ...record, type: 'resolution', at: Date.now() })
  }

  private enqueue(record: LogRecord, urgent = false): Promise<void> {
    if (!this.opened) return Promise.reject(new LogWriteError('decision log is not open'))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, epoch: this.o.fence.epoch, resolve, reject, ...(urgent && { urgent }) })
      if (record.type !== 'end' || urgent) this.endWait.must()
      if (record.type === 'decision') this.batchWait.decisionQueued(this.decisionsQueued())
      this.flushLoop.start()
    })
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // ENDs alone wait for the next decision's batch (end-wait.ts): a store commit each otherwise.
      await this.endWait.forCompany(this.queue.filter((p) => p.record.type !== 'end' || p.urgent === true).length)
      // Each store commit costs the store a WAL flush and a round trip: under load, decisions share one.
      await this.batchWait.beforeBatch(this.decisionsQueued())
      const batch = this.queue
      this.queue = []
      await this.writeBatch(batch)
    }
  }

  private decisionsQueued(): number {
    let n = 0
    for (const p of this.queue) if (p.record.type === 'decision') n += 1
    return n
  }

  private async writeBatch(all: Pending[]): Promise<void> {
    const epoch = this.o.fence.epoch
    // Appended under an epoch this node no longer holds (it lost its lease since): a transaction
    // prepared then may have been presumed aborted by the node that took this one over. Not an END:
    // its phase 2 is done whatever the epoch, and its UPDATE touches only rows this node still owns.
    const isStale = (p: Pending): boolean => epoch === 0 || (p.epoch !== epoch && p.record.type !== 'end')
    const stale = all.filter(isStale)
    for (const p of stale) p.reject(new LeaseLostError('this node lost its lease since this was appended (taken over, or rejoining): nothing was logged'))
    const batch = stale.length === 0 ? all : all.filter((p) => !isStale(p))
    if (batch.length === 0) return
    const decisions = batch.filter((p): p is Pending & { record: DecisionRecord } => p.record.type === 'decision')
    const resolutions = batch.filter((p): p is Pending & { record: ResolutionRecord } => p.record.type === 'resolution')
    const ends = batch.filter((p) => p.record.type === 'end')
    let result: BatchAnswer
    let client: pg.PoolClient
    try {
      await failpoint('log-before-write')
      client = await this.o.pool.connect()
    } catch (error) {
      // Never sent: nothing of the batch can be in the store.
      this.o.onWrite?.(error)
      const message = error instanceof Error ? error.message : String(error)
      for (const p of batch) p.reject(new LogWriteError(`the shared store could not be reached: ${message}`))
      return
    }
    try {
      result = await writeBatchStatement(client, {
        nodeId: this.o.fence.nodeId,
        epoch,
        decisions: decisions.map((p) => p.record),
        resolutions: resolutions.map((p) => p.record),
        ends: ends.map((p) => p.record.gtrid),
      })
      client.release()
    } catch (error) {
      client.release(true)
      this.o.onWrite?.(error)
      await this.settleLostAnswer(batch, decisions, error)
      return
    }
    this.o.onWrite?.()
    if (!result.fenced_in) {
      const why = `the store refused this node's write: node "${this.o.fence.nodeId}" no longer holds its lease at epoch ${epoch}`
      this.o.fence.lost(why, epoch)
      for (const p of batch) p.reject(new LeaseLostError(`${why}: nothing was logged`))
      return
    }
    this.counters.fsyncs += 1
    this.counters.batches += 1
    this.counters.records += batch.length
    this.o.onBatch?.(batch.length)
    const decided = new Set(result.decided)
    for (const p of batch) {
      if (p.record.type === 'decision' && !decided.has(p.record.gtrid)) {
        p.reject(new LeaseLostError(`transaction ${p.record.gtrid} was presumed aborted by a node that took this one over: its decision was refused`))
        continue
      }
      this.apply(p.record)
      p.resolve()
    }
  }

  /**
   * The batch's statement failed. Unless it never reached the server, its
   * commit may have happened: each decision is settled by inserting an abort
   * marker for it (inserted: the decision is not there and never will be;
   * refused: it is there). Retried until the store answers.
   */
  private async settleLostAnswer(batch: Pending[], decisions: (Pending & { record: DecisionRecord })[], error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error)
    const others = batch.filter((p) => p.record.type !== 'decision')
    // Resolutions are forced too: an operator retries a resolution that failed; END is a hint.
    for (const p of others) p.reject(new LogWriteError(`the store did not take the write: ${message}`))
    if (decisions.length === 0) return
    this.unsettled += decisions.length
    try {
      for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
        try {
          const committed = await settleLostDecisions(this.o.pool, this.o.fence.nodeId, decisions.map((p) => p.record.gtrid))
          for (const p of decisions) {
            if (committed.has(p.record.gtrid)) {
              this.apply(p.record)
              p.resolve()
            } else {
              p.reject(new LogWriteError(`the decision could not be logged (${message}); the store now says it is not there and never will be`))
            }
          }
          return
        } catch {
          await new Promise((resolve) => setTimeout(resolve, delay))
        }
      }
    } finally {
      this.unsettled -= decisions.length
    }
  }

  /**
   * Presumed abort of an orphan (prepared, no decision) in a cluster: first a
   * marker, after which no node can log a decision for `gtrid`. For another
   * node's orphan only while this node has it taken over and it has not
   * rejoined; for this node's own, only while this node holds its lease.
   * 'aborted': roll it back. 'decided': a decision got in first and this node
   * drives it (now in this index: commit it). 'theirs': a decision got in and
   * another node drives it. 'refused': the orphan's node rejoined, or this
   * node holds no lease: leave it.
   */
  async presumeAborted(gtrid: string, fromNode: string): Promise<'aborted' | 'decided' | 'theirs' | 'refused'> {
    const me = this.o.fence.nodeId
    const epoch = this.o.fence.epoch
    let outcome: { outcome: string; owner: string } | undefined
    try {
      const guard =
        fromNode === me
          ? 'SELECT 1 FROM arbiter_nodes WHERE node_id = $2 AND epoch = $3 AND lease_expires_at > now() FOR SHARE'
          : 'SELECT 1 FROM arbiter_nodes WHERE node_id = $3 AND lease_expires_at <= now() AND taken_over_by = $2 AND taken_over_at >= joined_at FOR SHARE'
      const marked = await this.o.pool.query(
        `WITH guard AS (${guard})
         INSERT INTO arbiter_transactions (gtrid, owner, outcome, decided_ms, epoch, ended_at)
         SELECT $1, $2, 'abort', 0, 0, now() WHERE EXISTS (SELECT 1 FROM guard)
         ON CONFLICT (gtrid) DO NOTHING RETURNING gtrid`,
        fromNode === me ? [gtrid, me, epoch] : [gtrid, me, fromNode],
      )
      if (marked.rowCount === 1) return 'aborted'
      // A statement of its own: never infer an abort from a row this snapshot could not see.
      outcome = (await this.o.pool.query<{ outcome: string; owner: string }>('SELECT outcome, owner FROM arbiter_transactions WHERE gtrid = $1', [gtrid])).rows[0]
    } catch (error) {
      throw StoreError.from(error, this.o.option, 'marking an orphan aborted')
    }
    if (outcome === undefined) return 'refused'
    if (outcome.outcome === 'abort') return 'aborted'
    if (outcome.outcome === 'commit' && outcome.owner === me) {
      await this.adopt([gtrid])
      return 'decided'
    }
    return outcome.outcome === 'commit' ? 'theirs' : 'refused'
  }

  async lookUp(gtrid: string): Promise<LoggedTransaction | undefined> {
    const found = new DecisionIndex()
    await this.readInto(found, 'gtrid = $1', [gtrid], 'reading a transaction another node owns')
    return found.get(gtrid)
  }

  unfinished(): LoggedTransaction[] {
    return this.index.unfinished()
  }

  heuristicEnded(): LoggedTransaction[] {
    return this.index.heuristicEnded()
  }

  get(gtrid: string): LoggedTransaction | undefined {
    return this.index.get(gtrid)
  }

  stats(): DecisionLogStats {
    return { ...this.counters, segments: 0 }
  }

  /** When this node first joined this store (DecisionLog.createdAt): its decisions are here only from then. */
  createdAt(): number | undefined {
    return this.o.fence.firstJoinedAt
  }

  healthy(): boolean {
    return this.opened && this.unsettled === 0 && this.o.fence.epoch > 0 && this.o.fence.held
  }

  problem(): string | undefined {
    if (this.o.fence.epoch === 0) return 'this node holds no lease in the shared store (lost to a takeover, or rejoining): it decides nothing'
    if (!this.o.fence.held) return 'this node could not renew its lease in the shared store for a whole lease: the store may refuse its decisions'
    if (this.unsettled > 0) return `the shared store has not answered whether ${this.unsettled} decisions were written: settling them`
    return undefined
  }

  async close(): Promise<void> {
    this.batchWait.release() // no commit delay on the way out
    this.endWait.release()
    await this.flushLoop.idle()
    this.opened = false
  }
}
