// The coordinator: owns every live transaction of this TM node and is the
// only place that moves them between states. The gRPC services translate
// calls into these methods; adapters do the talking to databases. Made of
// collaborators, one concern each: begin-admission.ts (what a Begin must
// pass), known-transactions.ts (finding a gtrid's transaction, client-named
// begins, forgetting), branch-work.ts (Execute and Enlist), commit-requests.ts
// (Commit around the protocol), drain.ts, operator-resolutions.ts and
// wrong-state.ts, with their shared types in coordinator-config.ts; this
// class holds them together and keeps begin, rollback, the deadline reaper,
// session ties, adopting logged decisions (recovery, takeover) and the
// node's lifecycle.
import { noteOnSpan } from '../tracing/spans.js'
import type { QueryResult, ResourceAdapter, SqlValue, Xid } from '../../adapters/types.js'
import { newGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import { logRefusal, type LoggedTransaction } from '../log/decision-log.js'
import type { CommitOutcome, LocalVoteInput } from './commit-protocol.js'
import { finishAdopted, transactionFromLog } from './adopt-decision.js'
import { ConcurrencyLimit } from './concurrency-limit.js'
import { logEnd } from './log-end.js'
import { abortTransaction, type AbortCause } from './rollback-protocol.js'
import { LiveCounter, Transaction, type SessionTie } from './transaction.js'
import type { CallerLimits } from './caller-limits.js'
import type { PoolShares } from './pool-shares.js'
import { BeginAdmission } from './begin-admission.js'
import type { BeginOptions, CoordinatorDeps } from './coordinator-config.js'
import { KnownTransactions } from './known-transactions.js'
import { BranchWork } from './branch-work.js'
import { CommitRequests } from './commit-requests.js'
import { drainTransactions } from './drain.js'
import { GtridLock } from './gtrid-lock.js'
import { markBranchResolving, overtakenPerLog, reflectResolution, type ResolutionAction, type ResolutionOutcome } from './operator-resolutions.js'
import { stateError } from './wrong-state.js'

/** Adopted decisions in phase 2 at once: the pools stay busy and live traffic still gets sessions; the rest answer COMMITTING. */
const ADOPTIONS_AT_ONCE = 8

export class Coordinator {
  private readonly known: KnownTransactions
  private readonly live = new LiveCounter()
  private readonly branchActors = new GtridLock()
  /** What a Begin must pass: its options, the node's and its caller's limits, the caller's share of each pool. */
  private readonly admission: BeginAdmission
  private readonly branchWork: BranchWork
  private readonly commits: CommitRequests
  private readonly stopController = new AbortController()
  private accepting = true
  private readonly sweeper: NodeJS.Timeout
  private readonly ctx

  /** Adopted decisions finishing at once (each finishes its branches in parallel). */
  private readonly adoptions = new ConcurrencyLimit(ADOPTIONS_AT_ONCE)

  constructor(private readonly deps: CoordinatorDeps) {
    const abort = (tx: Transaction, cause: AbortCause): Promise<void> => this.abort(tx, cause)
    this.admission = new BeginAdmission(deps.config, this.live)
    this.known = new KnownTransactions({
      config: deps.config,
      log: deps.log,
      members: deps.members,
      admission: this.admission,
      register: (...args) => this.register(...args),
      accepting: () => this.accepting,
    })
    this.ctx = {
      resources: deps.resources,
      logger: deps.logger,
      log: deps.log,
      stopping: this.stopController.signal,
      localBranchGraceMs: deps.config.localBranchGraceMs,
      onCommitted: deps.onCommitted,
      observer: deps.observer,
    }
    const { known, admission } = this
    const { resources, logger, observer, onRolledBack } = deps
    this.branchWork = new BranchWork({ known, resources, limits: deps.config.limits, admission, logger, observer, abort })
    this.commits = new CommitRequests({ protocol: this.ctx, known, resources, maxBranches: deps.config.limits.maxBranchesPerTransaction, observer, onRolledBack, abort })
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
    return this.known.instance
  }

  /** Runs a statement in the transaction (branch-work.ts); a failed or refused one rolls the transaction back. */
  execute(gtrid: string, resource: string, sql: string, params: readonly SqlValue[], begin?: BeginOptions, runClaim?: object): Promise<QueryResult> {
    return this.branchWork.execute(gtrid, resource, sql, params, begin, runClaim)
  }

  /** The resource's adapter, once the statement passes the limits and the statement guard (else INVALID_ARGUMENT). */
  validateStatement(resource: string, sql: string, params: readonly SqlValue[]): ResourceAdapter {
    return this.branchWork.validateStatement(resource, sql, params)
  }

  /**
   * A statement request the service could not even decode (no statement, a
   * bad parameter) is refused like one the coordinator refuses: the
   * transaction, if it is active here, rolls back.
   */
  refuseRequest(gtrid: string, error: TmError, runClaim?: object): Promise<never> {
    return this.branchWork.refuseRequest(gtrid, error, runClaim)
  }

  /** A local branch for the application to run on its own connection: its XID. */
  enlist(gtrid: string, resource: string): Xid {
    return this.branchWork.enlist(gtrid, resource)
  }

  /**
   * Commits the transaction (commit-requests.ts), begun by this Commit when the client named it (`begin`).
   * `runClaim`: the Run committing it, when the transaction is a Run's (Transaction.runClaim).
   */
  commit(gtrid: string, localVotes: readonly LocalVoteInput[], waitFor: 'applied' | 'durable', begin?: BeginOptions, runClaim?: object): Promise<CommitOutcome> {
    return this.commits.commit(gtrid, localVotes, waitFor, begin, runClaim)
  }

  /** Runs an ExecuteBatch's statements: a Commit meanwhile rolls the transaction back, never commits part of it (known-transactions.ts). */
  inBatch<T>(gtrid: string, work: () => Promise<T>): Promise<T> {
    return this.known.inBatch(gtrid, work)
  }

  /** The application committed these local branches itself. */
  completeLocal(gtrid: string, bquals: readonly Buffer[]): void {
    this.commits.completeLocal(gtrid, bquals)
  }

  async rollback(gtrid: string, reason: string): Promise<Transaction> {
    const tx = this.known.require(gtrid)
    if (tx.state === 'ACTIVE') {
      await this.abort(tx, { reason: reason || 'rolled back by the application' })
      return tx
    }
    if (tx.state === 'ROLLING_BACK' || tx.state === 'ROLLED_BACK') {
      tx.callerToldRolledBack = true
      await tx.rollbackOutcome
      return tx
    }
    throw stateError(tx, 'roll back')
  }

  /** The transaction if this TM holds it in memory. */
  find(gtrid: string): Transaction | undefined {
    return this.known.find(gtrid)
  }

  /** A view of a transaction known only from its logged decision (forgotten from memory), else undefined. */
  fromLog(gtrid: string): Transaction | undefined {
    return this.known.fromLog(gtrid)
  }

  /**
   * Before a call that would answer NOT_FOUND for a transaction this node
   * does not hold: in a cluster another node may drive it (recalled-elsewhere.ts).
   * Nothing to ask for one the client named under this run (`namedUnder`, its tm_instance).
   */
  recall(gtrid: string, namedUnder?: string): Promise<void> {
    return this.known.recall(gtrid, namedUnder)
  }

  /** Begins a transaction the client named itself (the rules of ExecuteRequest.begin), or returns it when known. */
  beginNamed(gtrid: string, begin: BeginOptions): Transaction {
    return this.known.requireOrBegin(gtrid, begin, { reaper: true })
  }

  /** Throws the refusal a client-named begin of `gtrid` would get here; begins nothing (known-transactions.ts). */
  checkNamedBegin(gtrid: string, tmInstance: string): void {
    this.known.checkNamedBegin(gtrid, tmInstance)
  }

  /** The transaction in memory, or what the log remembers of it. */
  get(gtrid: string): Transaction {
    return this.known.require(gtrid)
  }

  list(): Transaction[] {
    return this.known.list()
  }

  /** True when this TM rolled the transaction back and still remembers it (a Commit for it is refused). */
  rolledBackHere(gtrid: string): boolean {
    return this.known.rolledBackHere(gtrid)
  }

  /** A request for the transaction came on this session stream: the transaction now lives or dies with it. */
  bindSession(gtrid: string, session: SessionTie, caller: string | undefined): void {
    const tx = this.known.find(gtrid)
    // Only its own caller's stream: a request another token sends (refused by the call itself, later) must
    // not tie the transaction to that stream, whose end would then roll it back (found by hostile testing).
    if (tx !== undefined && tx.state === 'ACTIVE' && tx.usableBy(caller)) tx.session = session
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
    return this.known.isLive(gtrid)
  }

  /** Recovery: a logged decision without END is committed again (idempotently) by a phase 2 of its own. */
  adoptDecision(logged: LoggedTransaction): Transaction | undefined {
    const known = this.known.find(logged.gtrid)
    if (!logged.decision || known) {
      // Finished here, but its END never reached the log (a failed write, or refused while the
      // node held no lease): the log would keep it unfinished for as long as memory holds it.
      const finished = known?.state === 'COMMITTED' || (known?.state === 'HEURISTIC' && !known.branches.some((b) => b.state === 'prepared'))
      if (finished && !known.endPending && logged.decision && !logged.ended) logEnd(this.ctx, known)
      return known
    }
    const { tx, heuristic } = transactionFromLog(logged, this.live)
    this.known.add(tx)
    // In turns: a restart or a takeover may adopt thousands, and their phase 2s share the pools with live traffic.
    void tx.startPhaseTwo(this.adoptions.run(() => finishAdopted({ ...this.ctx, observer: this.deps.observer }, tx, heuristic, logged.decision!.trace)))
    return tx
  }

  /**
   * An operator's resolution is logged and about to be carried out: phase 2
   * (or cleanup) of that branch must stop retrying against it.
   */
  markResolving(gtrid: string, resource: string, bqual: Buffer, action: ResolutionAction): void {
    markBranchResolving(this.known.find(gtrid), resource, bqual, action)
  }

  /** An operator resolved a branch by hand (Admin.ResolveBranch; already logged): reflected in memory (operator-resolutions.ts). */
  noteResolution(gtrid: string, resource: string, bqual: Buffer, action: ResolutionAction, outcome: ResolutionOutcome): 'overtaken' | undefined {
    const tx = this.known.find(gtrid)
    return tx ? reflectResolution(tx, resource, bqual, action, outcome, this.deps.observer) : overtakenPerLog(this.ctx.log.get(gtrid), resource, bqual, action, outcome)
  }

  /**
   * A graceful stop's drain (SIGTERM). No new transaction begins from now on
   * (Begin: UNAVAILABLE with metadata draining; a client-named begin:
   * refused, nothing done); then drain.ts rolls back what does not end on its
   * own within the grace. The gRPC streams stay open all the while, so every
   * request is answered; stop() ends the loops.
   */
  drain(graceMs: number): Promise<void> {
    this.accepting = false
    return drainTransactions({ list: () => this.list(), abort: (tx, cause) => this.abort(tx, cause) }, graceMs)
  }

  /**
   * This node lost its lease in the shared store: another node may take its
   * transactions over and presume them aborted. Names clients took under
   * this run stop being accepted (a new tm_instance, as after a restart);
   * none of its transactions can be decided any more, so each still ACTIVE
   * rolls back now (its caller's next request answers ABORTED, retryable),
   * and a Commit past its prepares rolls back at its decision (unlessDoomed).
   */
  async leaseLost(reason: string): Promise<void> {
    this.known.newRun()
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
    return this.live.value + this.known.unseenInProgress(Date.now())
  }

  get stopping(): AbortSignal {
    return this.stopController.signal
  }

  /**
   * Recovery (or an operator) is about to roll back a prepared branch of
   * `gtrid` that no transaction here owns: from now on no client may begin
   * that gtrid. False when its transaction is live here after all (leave the
   * branch alone).
   */
  claimOrphan(gtrid: string): boolean {
    return this.known.claimOrphan(gtrid)
  }

  /**
   * Runs `fn` as the only actor on `gtrid`'s prepared branches: an
   * operator's resolution and recovery's commit or rollback take turns
   * (gtrid-lock.ts), so each judges what the other left.
   */
  exclusive<T>(gtrid: string, fn: () => Promise<T>): Promise<T> {
    return this.branchActors.run(gtrid, fn)
  }

  /** Forgets finished transactions past their retention (known-transactions.ts). Runs every 5 s. */
  forgetOld(): void {
    this.known.forgetOld()
  }

  private abort(tx: Transaction, cause: AbortCause): Promise<void> {
    return abortTransaction(this.ctx, tx, cause).then(() => {
      if (tx.state === 'HEURISTIC') return this.deps.observer?.heuristic(tx)
      this.deps.onRolledBack?.(tx)
      this.deps.observer?.finished(tx, 'rolled_back')
    })
  }

  private checkAccepting(): void {
    if (!this.accepting) {
      throw new TmError('TM_RM_UNAVAILABLE', 'the TM is shutting down (draining): nothing was begun; begin on another node or retry shortly', {
        metadata: { draining: 'true' },
      })
    }
    // A transaction begun now could never commit here (found by hostile testing: a node that lost its
    // node id kept taking Begins and holding row locks for transactions it then refused to commit).
    const refusal = logRefusal(this.ctx.log)
    if (refusal !== undefined) throw new TmError('TM_RM_UNAVAILABLE', `${refusal}: nothing was begun; begin on another node or retry shortly`)
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
    this.known.add(tx)
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
}
