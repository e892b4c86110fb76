// The coordinator: owns every live transaction of this TM node and is the
// only place that moves them between states. The gRPC services translate
// calls into these methods; adapters do the talking to databases.
import { inSpan, noteOnSpan } from '../tracing/spans.js'
import { BranchEscapedError, type QueryResult, type ResourceAdapter, type ResourceKind, type SqlValue, type Xid } from '../../adapters/types.js'
import { ARBITER_FORMAT_ID, newGtrid, parseGtrid, xidFromParts } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { DecisionLog, LoggedTransaction } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import { abortedError, doomedError, isTransient, runCommit, type CommitOutcome, type LocalVoteInput } from './commit-protocol.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { CoordinatorObserver } from './observer.js'
import { finishAdopted, transactionFromLog } from './adopt-decision.js'
import { checkLocalVotes } from './local-votes.js'
import { CLOCK_TOLERANCE_MS, ClientNamedBegins } from './client-named-begins.js'
import { abortTransaction, type AbortCause } from './rollback-protocol.js'
import { checkStatement, isPlainRead } from './statement-guard.js'
import { isFinal, isLive, type TxState } from './transaction-state.js'
import { LiveCounter, onBranch, Transaction, type SessionTie } from './transaction.js'
import { UnseenInProgress } from './unseen-in-progress.js'
import type { CallerLimits, CallerLimitsConfig } from './caller-limits.js'
import type { PoolShares } from './pool-shares.js'
import { BeginAdmission } from './begin-admission.js'
import { RecalledElsewhere, type MemberDirectory } from './recalled-elsewhere.js'

/** Begin's options (BeginRequest). */
export interface BeginOptions {
  readonly timeoutMs?: number
  readonly labels?: Record<string, string>
  /** Only for a client-named transaction: the TM run the client learned (BeginResponse.tm_instance). */
  readonly tmInstance?: string
  /** Who begins it (the token's name), for the per-caller limits; undefined with auth off. */
  readonly caller?: string | undefined
}

export interface CoordinatorConfig {
  readonly nodeId: string
  readonly defaultTimeoutMs: number
  readonly maxTimeoutMs: number
  /** How long phase 2 waits for the application to commit its local branches itself. */
  readonly localBranchGraceMs: number
  /** How long a finished transaction stays queryable in memory. */
  readonly retentionMs: number
  /** How many finished transactions stay in memory at most, the oldest forgotten first (default 10 000). */
  readonly maxRetained?: number
  readonly limits: {
    readonly maxActiveTransactions: number
    readonly maxBranchesPerTransaction: number
    readonly maxStatementBytes: number
    readonly maxParams: number
    readonly maxRows: number
    readonly maxLabels: number
    /** Bytes of all label keys and values together (default 4096). */
    readonly maxLabelBytes?: number
  }
  /** Per-caller limits (caller-limits.ts); absent with auth off: no caller to tell apart. */
  readonly callers?: CallerLimitsConfig
}

export interface CoordinatorDeps {
  readonly config: CoordinatorConfig
  readonly resources: ResourceRegistry
  readonly log: DecisionLog
  readonly logger: Logger
  readonly onCommitted?: (tx: Transaction) => void
  readonly onRolledBack?: (tx: Transaction) => void
  /** Metrics: told of every transition worth counting (synchronous, no I/O). */
  readonly observer?: CoordinatorObserver
  /** An application's session ended without coming back (sessionLost): recovery expedites its orphans. */
  readonly onSessionLost?: (endedAt: number) => void
  /** In a cluster: who holds which transactions (a request for another node's is sent there: TM_WRONG_NODE). */
  readonly members?: MemberDirectory
}

/** How long a drain waits, after rolling back the transactions still active, for their callers to ask and hear it. */
const DRAINED_CALLER_WAIT_MS = 1000

/** OpenTelemetry's db.system names of the adapters' kinds. */
const DB_SYSTEM: Record<string, string> = { postgres: 'postgresql', mysql: 'mysql', redis: 'redis' }

export class Coordinator {
  private readonly txs = new Map<string, Transaction>()
  private readonly namedBegins: ClientNamedBegins
  private readonly unseen = new UnseenInProgress()
  private readonly elsewhere: RecalledElsewhere
  private readonly live = new LiveCounter()
  /** What a Begin must pass: its options, the node's and its caller's limits, the caller's share of each pool. */
  private readonly admission: BeginAdmission
  private readonly stopController = new AbortController()
  private accepting = true
  private readonly sweeper: NodeJS.Timeout
  private readonly ctx

  constructor(private readonly deps: CoordinatorDeps) {
    this.namedBegins = new ClientNamedBegins(deps.config.nodeId, deps.config.maxTimeoutMs)
    this.elsewhere = new RecalledElsewhere(deps.log, deps.config.nodeId, deps.members)
    this.admission = new BeginAdmission(deps.config, this.live)
    this.ctx = {
      resources: deps.resources,
      logger: deps.logger,
      log: deps.log,
      stopping: this.stopController.signal,
      localBranchGraceMs: deps.config.localBranchGraceMs,
      onCommitted: deps.onCommitted,
      observer: deps.observer,
    }
    this.sweeper = setInterval(() => this.forgetOld(), 5000).unref()
  }

  /** Per-caller limits and counts, when auth is on. */
  get callerLimits(): CallerLimits | undefined {
    return this.admission.callerLimits
  }

  /** Each caller's share of each resource's session pool. */
  get poolShares(): PoolShares {
    return this.admission.poolShares
  }

  begin(options: BeginOptions = {}): Transaction {
    this.checkAccepting()
    const { timeoutMs, labels } = this.admission.checkOptions(options)
    const live = this.admission.admit(options.caller)
    return this.register(newGtrid(this.deps.config.nodeId), Date.now() + timeoutMs, timeoutMs, labels, { reaper: true, live, caller: options.caller })
  }

  /** The timeout of a transaction whose Begin gives none. */
  get defaultTimeoutMs(): number {
    return this.deps.config.defaultTimeoutMs
  }

  /** Names this run of the TM: a client-named transaction must carry it to begin here (BeginResponse.tm_instance). */
  get instance(): string {
    return this.namedBegins.instance
  }

  async execute(gtrid: string, resource: string, sql: string, params: readonly SqlValue[], begin?: BeginOptions): Promise<QueryResult> {
    const { limits } = this.deps.config
    const tx = this.requireActive(gtrid, begin)
    let adapter: ResourceAdapter
    try {
      adapter = this.validateStatement(resource, sql, params)
      if (!tx.managedBranch(resource)) this.checkBranchLimit(tx)
    } catch (error) {
      if (error instanceof TmError && error.code === 'TM_INVALID_ARGUMENT') return this.refuseStatement(tx, error)
      throw error
    }
    let branch = tx.managedBranch(resource)
    if (!branch) {
      branch = tx.addBranch(resource, this.newXid(tx), 'managed')
      const newBranch = branch
      // A pool with no free session makes begin wait at most the resource's
      // connectTimeoutMs (then UNAVAILABLE-class error → ABORTED, retryable);
      // a rollback meanwhile (deadline reaper, Rollback) cancels the begin,
      // waiting for a connection or not yet started.
      // Its span covers taking a pooled session and BEGIN / XA START (a round trip before the first statement).
      newBranch.session = inSpan('arbiter.begin_branch', { 'db.system': DB_SYSTEM[adapter.kind] ?? adapter.kind, 'arbiter.resource': resource, 'arbiter.gtrid': tx.gtrid }, () =>
        this.admission.beginBranch(adapter, tx, newBranch.xid, !isPlainRead(sql)),
      )
      this.deps.logger.debug({ gtrid: tx.gtrid, resource, bqual: newBranch.xid.bqual.toString('hex') }, 'branch started')
      newBranch.session.catch(() => {
        // Could not even start: the branch never existed on the server.
        tx.branches.splice(tx.branches.indexOf(newBranch), 1)
      })
    }
    const target = branch
    if (!isPlainRead(sql)) target.onlyReadsSoFar = false
    tx.touch()
    let tooManyRows: TmError | undefined
    try {
      return await onBranch(target, async () => {
        if (tx.state === 'PREPARING') {
          // Accepted before a Commit pipelined behind it began: that Commit must not commit without it.
          const cause = { reason: `a statement on "${resource}" accepted before the Commit had not run when the Commit began`, retryable: true }
          tx.doomed ??= cause
          throw doomedError(tx.gtrid, cause)
        }
        if (tx.state !== 'ACTIVE') throw this.stateError(tx, 'execute')
        try {
          // A branch that could not even begin (no pooled connection in time) fails here too.
          const session = await target.session!
          // The row limit is checked here for every kind of resource, so its error names the limit.
          // Its span names the resource and its kind, never the SQL's parameters.
          const result = await inSpan('arbiter.statement', { 'db.system': DB_SYSTEM[adapter.kind] ?? adapter.kind, 'arbiter.resource': resource, 'arbiter.gtrid': tx.gtrid }, () =>
            session.execute(sql, params, { signal: tx.cancel.signal }),
          )
          if (result.rows.length > limits.maxRows) {
            throw (tooManyRows = new TmError(
              'TM_INVALID_ARGUMENT',
              `statement on "${resource}" returned ${result.rows.length} rows, over the limit of ${limits.maxRows} (limits.maxRows): ` +
                'the transaction was rolled back; add a LIMIT or page through the rows',
              { metadata: { gtrid: tx.gtrid, resource } },
            ))
          }
          return result
        } catch (error) {
          if (error instanceof BranchEscapedError) {
            // The server says the statement ended the branch: its writes may be committed already.
            target.state = 'escaped'
            tx.escaped ??= `the branch on "${resource}" escaped its transaction: ${error.message}`
            this.deps.logger.error({ gtrid: tx.gtrid, resource, err: error.message }, 'branch escaped its transaction: the outcome is mixed')
          }
          // A Commit (pipelined on the Session stream) began while this ran and
          // waits behind it on this branch: marked before the branch's next
          // work starts, so that Commit rolls back instead of committing.
          if ((tx.state as TxState) === 'PREPARING') tx.doomed ??= failureCause(resource, error, tooManyRows)
          throw error
        }
      })
    } catch (error) {
      if (error instanceof TmError && error !== tooManyRows) throw error
      const cause = failureCause(resource, error, tooManyRows)
      if (error !== tooManyRows) {
        const e = error as { errorClass?: string; message?: string }
        if (e.errorClass !== undefined) this.deps.observer?.resourceError(resource, e.errorClass)
        this.deps.logger.debug({ gtrid: tx.gtrid, resource, err: e.message ?? String(error), errorClass: e.errorClass }, 'statement failed')
      }
      if (tx.state === 'PREPARING') {
        // The Commit in progress rolls back (tx.doomed); rolling back under it here would race it.
        throw error === tooManyRows ? error : tx.escaped !== undefined ? abortedError(tx) : doomedError(tx.gtrid, cause)
      }
      await this.abort(tx, cause)
      throw error === tooManyRows ? error : abortedError(tx)
    }
  }

  /** The resource's adapter, once the statement passes the limits and the statement guard (else INVALID_ARGUMENT). */
  validateStatement(resource: string, sql: string, params: readonly SqlValue[]): ResourceAdapter {
    const adapter = this.deps.resources.require(resource)
    checkStatementRequest(adapter.kind, sql, params, this.deps.config.limits)
    return adapter
  }

  /**
   * A statement request the service could not even decode (no statement, a
   * bad parameter) is refused like one the coordinator refuses: the
   * transaction, if it is active here, rolls back.
   */
  async refuseRequest(gtrid: string, error: TmError): Promise<never> {
    const tx = this.txs.get(gtrid)
    if (tx?.state === 'ACTIVE') return this.refuseStatement(tx, error)
    throw error
  }

  /**
   * A refused statement rolls its transaction back, as a failed one does: a
   * caller that went on and committed would commit the transaction without
   * the statement it meant to run. Started before the first await, so a
   * Commit pipelined behind the statement finds the transaction rolling back.
   */
  private async refuseStatement(tx: Transaction, error: TmError): Promise<never> {
    await this.abort(tx, { reason: `a statement was refused: ${error.message}` })
    throw new TmError('TM_INVALID_ARGUMENT', `${error.message} (transaction ${tx.gtrid} was rolled back)`, {
      metadata: { ...error.metadata, gtrid: tx.gtrid },
    })
  }

  enlist(gtrid: string, resource: string): Xid {
    const tx = this.requireActive(gtrid)
    const adapter = this.deps.resources.require(resource)
    if (adapter.kind === 'redis') {
      throw new TmError('TM_INVALID_ARGUMENT', `resource "${resource}" is Redis: local branches need a SQL connection; use Execute`)
    }
    this.checkBranchLimit(tx)
    const branch = tx.addBranch(resource, this.newXid(tx), 'local')
    this.deps.logger.debug({ gtrid: tx.gtrid, resource, bqual: branch.xid.bqual.toString('hex') }, 'local branch enlisted')
    return branch.xid
  }

  async commit(gtrid: string, localVotes: readonly LocalVoteInput[], waitFor: 'applied' | 'durable', begin?: BeginOptions): Promise<CommitOutcome> {
    // A transaction begun by its Commit needs no reaper (it is never ACTIVE
    // after this call), but it counts against the limits like any other: it
    // stays in progress until its local branches are reported committed, up
    // to transactions.localBranchGraceMs (found by review: one token could
    // hold thousands past its limit).
    const tx = begin === undefined ? this.require(gtrid) : this.requireOrBegin(gtrid, begin, { reaper: false })
    if (tx.commitOutcome) return (await tx.commitOutcome) as CommitOutcome // a repeated Commit gets the same answer
    switch (tx.state) {
      case 'ACTIVE':
        break
      case 'ROLLING_BACK':
      case 'ROLLED_BACK':
        throw this.toldRolledBack(tx)
      case 'HEURISTIC':
        throw new TmError('TM_HEURISTIC_MIXED', `transaction ${gtrid} has a heuristic outcome: ${tx.abortReason ?? 'resolved by an operator'}`)
      default:
        return { tx, commitLocally: [] } // recovered from the log: committing or committed
    }
    let announced: ReturnType<typeof checkLocalVotes>
    try {
      announced = checkLocalVotes(tx, localVotes, this.deps.resources, this.deps.config.limits.maxBranchesPerTransaction)
    } catch (error) {
      // Begun by this Commit (no reaper watches it): refused, it must not stay ACTIVE, holding a slot of the
      // node's and the caller's limits for ever. Rolled back; its caller rolls back its local branches.
      if (begin !== undefined && !this.reaped(tx)) {
        await this.abort(tx, { reason: `its Commit was refused: ${error instanceof Error ? error.message : String(error)}` })
      }
      throw error
    }
    for (const vote of announced) tx.addBranch(vote.resource!, xidFromParts(ARBITER_FORMAT_ID, Buffer.from(tx.gtrid), vote.bqual), 'local')
    if (Date.now() > tx.deadline) {
      await this.abort(tx, { reason: 'deadline exceeded before commit', retryable: true })
      throw abortedError(tx)
    }
    tx.state = 'PREPARING'
    tx.touch()
    clearTimeout(tx.deadlineTimer)
    tx.deadlineTimer = undefined
    tx.commitOutcome = runCommit(this.ctx, tx, localVotes, waitFor)
    try {
      const outcome = (await tx.commitOutcome) as CommitOutcome
      this.deps.observer?.commitAnswered(tx)
      return outcome
    } catch (error) {
      if (error instanceof TmError && error.code === 'TM_OUTCOME_UNKNOWN') this.deps.observer?.finished(tx, 'unknown')
      throw error
    } finally {
      if ((tx.state as TxState) === 'ROLLED_BACK') {
        this.deps.onRolledBack?.(tx)
        this.deps.observer?.finished(tx, 'rolled_back')
      } else if ((tx.state as TxState) === 'HEURISTIC' && tx.escaped !== undefined) {
        this.deps.observer?.heuristic(tx)
      }
    }
  }

  /** The application committed these local branches itself. */
  completeLocal(gtrid: string, bquals: readonly Buffer[]): void {
    const tx = this.require(gtrid)
    for (const bqual of bquals) {
      const branch = tx.branches.find((b) => b.mode === 'local' && b.xid.bqual.equals(bqual))
      if (!branch) throw new TmError('TM_INVALID_ARGUMENT', `no local branch "${bqual.toString()}" in ${gtrid}`)
      if (tx.state !== 'COMMITTING' && tx.state !== 'COMMITTED') throw this.stateError(tx, 'complete local branches of')
      branch.reportedDone = true
      branch.wake?.()
    }
  }

  async rollback(gtrid: string, reason: string): Promise<Transaction> {
    const tx = this.require(gtrid)
    if (tx.state === 'ACTIVE') {
      await this.abort(tx, { reason: reason || 'rolled back by the application' })
      return tx
    }
    if (tx.state === 'ROLLING_BACK' || tx.state === 'ROLLED_BACK') {
      tx.callerToldRolledBack = true
      await tx.rollbackOutcome
      return tx
    }
    throw this.stateError(tx, 'roll back')
  }

  /** The transaction if this TM holds it in memory. */
  find(gtrid: string): Transaction | undefined {
    return this.txs.get(gtrid)
  }

  /** A view of a transaction known only from its logged decision (forgotten from memory), else undefined. */
  fromLog(gtrid: string): Transaction | undefined {
    if (typeof gtrid !== 'string' || gtrid === '' || this.txs.has(gtrid) || !this.logged(gtrid)?.decision) return undefined
    return this.require(gtrid)
  }

  /**
   * Before a call that would answer NOT_FOUND for a transaction this node
   * does not hold: in a cluster another node may drive it (recalled-elsewhere.ts).
   * Not for a transaction the client named under this run (`namedUnder`, its
   * tm_instance): it is new here, nothing to ask, and the hot path stays one
   * round trip.
   */
  async recall(gtrid: string, namedUnder?: string): Promise<void> {
    if (typeof gtrid !== 'string' || this.txs.has(gtrid) || (namedUnder !== undefined && namedUnder === this.namedBegins.instance)) return
    await this.elsewhere.recall(gtrid)
  }

  /** Begins a transaction the client named itself (the rules of ExecuteRequest.begin), or returns it when known. */
  beginNamed(gtrid: string, begin: BeginOptions): Transaction {
    return this.requireOrBegin(gtrid, begin, { reaper: true })
  }

  /** The transaction in memory, or what the log remembers of it. */
  get(gtrid: string): Transaction {
    return this.require(gtrid)
  }

  list(): Transaction[] {
    return [...this.txs.values()]
  }

  /** True when this TM rolled the transaction back and still remembers it (a Commit for it is refused). */
  rolledBackHere(gtrid: string): boolean {
    const state = this.txs.get(gtrid)?.state
    return state === 'ROLLED_BACK' || state === 'ROLLING_BACK'
  }

  /** A request for the transaction came on this session stream: the transaction now lives or dies with it. */
  bindSession(gtrid: string, session: SessionTie): void {
    const tx = this.txs.get(gtrid)
    if (tx !== undefined && tx.state === 'ACTIVE') tx.session = session
  }

  /**
   * An application's session stream ended and none of its connection's
   * streams is left (the application died, or closed its client). After
   * transactions.localBranchGraceMs, its transactions still active and not
   * taken up on another stream are rolled back (ABORTED, retryable for a
   * client that was only cut off), and recovery rolls back the local
   * branches it may have prepared without waiting its grace period.
   */
  sessionLost(session: SessionTie): void {
    if (!this.accepting) return // a drain ends sessions itself
    const endedAt = Date.now()
    const graceMs = this.deps.config.localBranchGraceMs
    setTimeout(() => {
      const abandoned = this.list().filter((t) => t.state === 'ACTIVE' && t.session === session)
      void Promise.allSettled(
        abandoned.map((t) =>
          this.abort(t, { reason: `its application's session ended and it did not come back within ${graceMs} ms (transactions.localBranchGraceMs)`, retryable: true }),
        ),
      ).then(() => this.deps.onSessionLost?.(endedAt))
    }, graceMs).unref()
  }

  /** True while this TM works on the transaction: recovery must not presume it aborted. */
  isLive(gtrid: string): boolean {
    const tx = this.txs.get(gtrid)
    return tx !== undefined && isLive(tx.state)
  }

  /** Recovery: a logged decision without END is committed again (idempotently) by a phase 2 of its own. */
  adoptDecision(logged: LoggedTransaction): Transaction | undefined {
    if (!logged.decision || this.txs.has(logged.gtrid)) return this.txs.get(logged.gtrid)
    const { tx, heuristic } = transactionFromLog(logged, this.live)
    this.txs.set(tx.gtrid, tx)
    tx.phaseTwoDone = finishAdopted({ ...this.ctx, observer: this.deps.observer }, tx, heuristic, logged.decision.trace)
    return tx
  }

  /**
   * An operator's resolution is logged and about to be carried out: phase 2
   * (or cleanup) of that branch must stop retrying against it.
   */
  markResolving(gtrid: string, resource: string, bqual: Buffer, action: 'commit' | 'rollback'): void {
    const branch = this.txs.get(gtrid)?.branches.find((b) => b.resource === resource && b.xid.bqual.equals(bqual))
    if (branch) branch.resolution = action
  }

  /**
   * An operator resolved a branch by hand (Admin.ResolveBranch; already
   * logged). Reflects it in memory: the branch's state once carried out, and
   * HEURISTIC for good when it contradicted the decision, also after a phase
   * 2 still running finishes (it would otherwise say COMMITTED).
   */
  noteResolution(
    gtrid: string,
    resource: string,
    bqual: Buffer,
    action: 'commit' | 'rollback',
    outcome: { done: boolean; heuristic: boolean; operator: string; reason: string },
  ): void {
    const tx = this.txs.get(gtrid)
    if (!tx) return
    const branch = tx.branches.find((b) => b.resource === resource && b.xid.bqual.equals(bqual))
    if (branch) branch.resolution = action
    if (branch && outcome.done) branch.state = action === 'commit' ? 'committed' : 'rolled-back'
    if (!outcome.heuristic) return
    this.deps.observer?.heuristic(tx)
    const makeHeuristic = (): void => {
      tx.state = 'HEURISTIC'
      tx.abortReason = `heuristic: branch on "${resource}" resolved to ${action} by ${outcome.operator}: ${outcome.reason}`
      tx.touch()
    }
    makeHeuristic()
    void tx.phaseTwoDone?.then(makeHeuristic, makeHeuristic)
  }

  /**
   * A graceful stop's drain (SIGTERM). No new transaction begins from now on
   * (Begin: UNAVAILABLE with metadata draining; a client-named begin:
   * refused, nothing done). Transactions already ACTIVE get half the grace
   * to commit or roll back on their own; the rest are then rolled back
   * (their callers' next request answers ABORTED, retryable). Commits in
   * flight run to their outcome until the grace ends. The gRPC streams stay
   * open all the while, so every request is answered; stop() ends the loops.
   */
  async drain(graceMs: number): Promise<void> {
    this.accepting = false
    const started = Date.now()
    await this.waitUntil(() => !this.list().some((t) => t.state === 'ACTIVE'), started + graceMs / 2)
    const drained = this.list().filter((t) => t.state === 'ACTIVE')
    await Promise.allSettled(
      drained.map((t) => this.abort(t, { reason: 'the TM is shutting down (drained): retry, on another node or once it is back', retryable: true })),
    )
    // Commits in flight reach their outcome (until the grace ends), and the
    // callers of drained transactions get a moment to ask and hear ABORTED
    // (a caller that stays silent longer finds the node gone instead).
    const finishing = (t: Transaction): boolean => t.state === 'PREPARING' || t.state === 'ROLLING_BACK' || (t.state === 'COMMITTING' && t.phaseTwoDone !== undefined)
    const stragglersUntil = Math.min(started + graceMs, Date.now() + DRAINED_CALLER_WAIT_MS)
    await this.waitUntil(() => !this.list().some(finishing) && (Date.now() >= stragglersUntil || drained.every((t) => t.callerToldRolledBack)), started + graceMs)
  }

  /**
   * This node lost its lease (cluster): none of its transactions in progress
   * can be decided any more, so each still ACTIVE rolls back now (its
   * caller's next request answers ABORTED, retryable); Commits under way are
   * refused by the store (ABORTED).
   */
  async abortActive(reason: string): Promise<void> {
    // A Commit past its prepares rolls back at its decision (unlessDoomed), whatever epoch the node has by then.
    for (const t of this.list()) if (t.state === 'PREPARING') t.doomed ??= { reason, retryable: true }
    await Promise.allSettled(this.list().filter((t) => t.state === 'ACTIVE').map((t) => this.abort(t, { reason, retryable: true })))
  }

  /** True while a drain has stopped new transactions. */
  get draining(): boolean {
    return !this.accepting
  }

  /** Ends phase-2 loops (the next start's recovery finishes them): a Commit waiting on one answers with the decision. */
  stop(): void {
    this.accepting = false
    this.stopController.abort()
    clearInterval(this.sweeper)
  }

  /** drain(), then stop(). */
  async shutdown(graceMs: number): Promise<void> {
    await this.drain(graceMs)
    this.stop()
  }

  private async waitUntil(done: () => boolean, deadline: number): Promise<void> {
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, deadline - Date.now()))))
  }

  /** The answer that tells a caller its transaction rolled back (a drain waits until its callers have heard it). */
  private toldRolledBack(tx: Transaction): TmError {
    tx.callerToldRolledBack = true
    return abortedError(tx)
  }

  /** Transactions in progress (ACTIVE, PREPARING, COMMITTING). */
  get liveCount(): number {
    return this.live.value
  }

  /**
   * Transactions in progress, also those this TM cannot see yet: the live
   * ones plus an estimate of the client-named ones that will begin with
   * their Commit (unseen-in-progress.ts). What the commit delay sizes by.
   */
  get inProgressCount(): number {
    return this.live.value + this.unseen.estimate(Date.now())
  }

  get stopping(): AbortSignal {
    return this.stopController.signal
  }

  private abort(tx: Transaction, cause: { reason: string; serverCode?: string | undefined; retryable?: boolean }): Promise<void> {
    return abortTransaction(this.ctx, tx, cause).then(() => {
      if (tx.state === 'HEURISTIC') return this.deps.observer?.heuristic(tx)
      this.deps.onRolledBack?.(tx)
      this.deps.observer?.finished(tx, 'rolled_back')
    })
  }

  private require(gtrid: string): Transaction {
    if (typeof gtrid !== 'string' || gtrid === '') throw new TmError('TM_INVALID_ARGUMENT', 'gtrid is required')
    const tx = this.txs.get(gtrid)
    if (tx) return tx
    try {
      parseGtrid(gtrid)
    } catch (error) {
      throw new TmError('TM_INVALID_ARGUMENT', `malformed gtrid "${gtrid.slice(0, 80)}": ${(error as Error).message}`)
    }
    const logged = this.logged(gtrid)
    if (logged?.decision) {
      const tx = new Transaction(gtrid, 0, {})
      tx.state = logged.ended ? 'COMMITTED' : 'COMMITTING'
      return tx
    }
    throw new TmError('TM_TX_NOT_FOUND', `unknown transaction ${gtrid}: never begun here, or forgotten (without a logged decision a two-phase transaction is presumed aborted; a one-phase commit leaves no record)`)
  }

  /** This node's log's record of it, or, for another node's, what the shared store said (recall()): answered, never driven here. */
  private logged(gtrid: string): LoggedTransaction | undefined {
    return this.deps.log.get(gtrid) ?? this.elsewhere.get(gtrid)
  }

  private requireActive(gtrid: string, begin?: BeginOptions): Transaction {
    const tx = begin === undefined ? this.require(gtrid) : this.requireOrBegin(gtrid, begin, { reaper: true })
    if (tx.state !== 'ACTIVE') throw this.stateError(tx, 'work in')
    if (Date.now() > tx.deadline) throw new TmError('TM_TX_ABORTED', `transaction ${gtrid} passed its deadline`)
    return tx
  }

  /** The transaction a client named itself (ExecuteRequest.begin), begun here if this TM does not know it yet (client-named-begins.ts). */
  private requireOrBegin(gtrid: string, begin: BeginOptions, options: { reaper: boolean }): Transaction {
    const known = this.txs.get(gtrid)
    if (known) return known
    if (typeof gtrid === 'string' && gtrid !== '' && this.logged(gtrid)?.decision) return this.require(gtrid)
    const parts = this.namedBegins.parse(gtrid) // a malformed gtrid is INVALID_ARGUMENT before the options are looked at
    const { timeoutMs, labels } = this.admission.checkOptions(begin)
    const now = Date.now()
    const { namedAt } = this.namedBegins.check(gtrid, parts, begin.tmInstance, timeoutMs, now, this.accepting)
    const live = this.admission.admit(begin.caller)
    if (!options.reaper) this.unseen.note(now, now - namedAt) // begun by its Commit: it was under way at the client until now
    const tx = this.register(gtrid, namedAt + timeoutMs, timeoutMs, labels, { ...options, live, caller: begin.caller })
    // Past its deadline a begin of this gtrid is refused anyway (the client sends the same options again).
    tx.keepUntil = tx.deadline + CLOCK_TOLERANCE_MS
    return tx
  }

  /**
   * Recovery (or an operator) is about to roll back a prepared branch of
   * `gtrid` that no transaction here owns: from now on no client may begin
   * that gtrid. False when its transaction is live here after all (leave the
   * branch alone).
   */
  claimOrphan(gtrid: string): boolean {
    if (this.isLive(gtrid)) return false
    if (!this.txs.has(gtrid)) this.namedBegins.closePresumedAborted(gtrid, Date.now())
    return true
  }

  private checkAccepting(): void {
    if (!this.accepting) {
      throw new TmError('TM_RM_UNAVAILABLE', 'the TM is shutting down (draining): nothing was begun; begin on another node or retry shortly', {
        metadata: { draining: 'true' },
      })
    }
  }

  /** Whether the deadline reaper watches `tx` (a transaction begun by its Commit is not watched). */
  private reaped(tx: Transaction): boolean {
    return tx.deadlineTimer !== undefined
  }

  private register(
    gtrid: string,
    deadline: number,
    timeoutMs: number,
    labels: Record<string, string>,
    options: { reaper: boolean; live: LiveCounter; caller: string | undefined },
  ): Transaction {
    const tx = new Transaction(gtrid, deadline, labels, options.live)
    tx.caller = options.caller
    this.txs.set(tx.gtrid, tx)
    noteOnSpan('arbiter.gtrid', tx.gtrid) // the request span that began it (Begin, or a request it rode on)
    // The reaper: a transaction whose deadline passes before Commit rolls back.
    if (options.reaper) {
      tx.deadlineTimer = setTimeout(() => {
        if (tx.state === 'ACTIVE') void this.abort(tx, { reason: `deadline of ${timeoutMs} ms exceeded`, retryable: true })
      }, Math.max(0, deadline - Date.now())).unref()
    }
    this.deps.observer?.begun(tx)
    this.deps.logger.debug({ gtrid: tx.gtrid, timeoutMs }, 'begun')
    return tx
  }

  private stateError(tx: Transaction, what: string): TmError {
    if (tx.state === 'ROLLING_BACK' || tx.state === 'ROLLED_BACK') return this.toldRolledBack(tx)
    return new TmError('TM_ILLEGAL_STATE', `cannot ${what} transaction ${tx.gtrid}: it is ${tx.state}`)
  }

  private checkBranchLimit(tx: Transaction): void {
    const max = this.deps.config.limits.maxBranchesPerTransaction
    if (tx.branches.length >= max) {
      throw new TmError('TM_INVALID_ARGUMENT', `transaction ${tx.gtrid} already has ${max} branches (limits.maxBranchesPerTransaction)`)
    }
  }

  private newXid(tx: Transaction): Xid {
    return xidFromParts(ARBITER_FORMAT_ID, Buffer.from(tx.gtrid), tx.allocateBqual())
  }

  /**
   * Forgets finished transactions older than retentionMs, and the oldest
   * beyond maxRetained (memory: at a thousand transactions a second, ten
   * minutes of them would be gigabytes). A forgotten client-named one stays
   * closed to begins while a client could still name it. Runs every 5 s.
   */
  forgetOld(): void {
    const now = Date.now()
    const cutoff = now - this.deps.config.retentionMs
    let finished = 0
    for (const tx of this.txs.values()) if (isFinal(tx.state)) finished++
    let excess = finished - (this.deps.config.maxRetained ?? 10_000)
    // The map is in begin order: the oldest come first.
    for (const [gtrid, tx] of this.txs) {
      if (!isFinal(tx.state) || tx.endPending || (tx.updatedAt >= cutoff && excess <= 0)) continue
      this.txs.delete(gtrid)
      excess--
      if (tx.keepUntil > now) this.namedBegins.closeForgotten(gtrid, tx.keepUntil)
    }
    this.namedBegins.sweep(now)
  }
}

/** Why a failed statement (or one over limits.maxRows) rolls its transaction back. */
function failureCause(resource: string, error: unknown, tooManyRows: TmError | undefined): AbortCause {
  if (error === tooManyRows) return { reason: `statement on "${resource}" returned more rows than limits.maxRows allows` }
  // A failed statement dooms the branch (PostgreSQL aborts the block): the whole transaction rolls back.
  const e = error as { errorClass?: string; serverCode?: string; message?: string }
  return {
    reason: `statement on "${resource}" failed: ${e.message ?? String(error)}`,
    serverCode: e.serverCode,
    retryable: e.errorClass === 'retryable' || isTransient(e.serverCode),
  }
}

/** Refuses (INVALID_ARGUMENT) a statement or Redis command the limits or the statement guard do not allow. */
function checkStatementRequest(kind: ResourceKind, sql: string, params: readonly SqlValue[], limits: CoordinatorConfig['limits']): void {
  if (kind !== 'redis') checkStatement(sql, { maxBytes: limits.maxStatementBytes, dialect: kind })
  else if (sql.trim() === '') throw new TmError('TM_INVALID_ARGUMENT', 'command is empty')
  else if (Buffer.byteLength(sql) > limits.maxStatementBytes) {
    throw new TmError('TM_INVALID_ARGUMENT', `command is ${Buffer.byteLength(sql)} bytes, over the limit of ${limits.maxStatementBytes} (limits.maxStatementBytes)`)
  }
  if (params.length > limits.maxParams) {
    throw new TmError('TM_INVALID_ARGUMENT', `${params.length} parameters, over the limit of ${limits.maxParams} (limits.maxParams)`)
  }
}
