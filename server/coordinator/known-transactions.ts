// The transactions this node knows, by gtrid, and how a request's gtrid finds
// its transaction:
// - in memory: begun here or adopted by recovery, until forgotten (forgetOld);
// - remembered only by a logged decision, in this node's log or, in a
//   cluster, in the shared store (recalled-elsewhere.ts): a view answered
//   from it, never driven here;
// - named by the client itself (ExecuteRequest.begin, a Commit's or a Run's):
//   begun on the spot when client-named-begins.ts allows it;
// - anything else is NOT_FOUND: presumed aborted.
// Split from coordinator.ts, which moves the transactions between states.
import { gtridNamedAt, parseGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import { logRefusal, type DecisionLog, type LoggedTransaction } from '../log/decision-log.js'
import { heuristicReason, mixingResolution, type ResolutionRecord } from '../log/log-record.js'
import type { BeginAdmission } from './begin-admission.js'
import { CLOCK_TOLERANCE_MS, ClientNamedBegins } from './client-named-begins.js'
import type { BeginOptions, CoordinatorConfig } from './coordinator-config.js'
import { RecalledElsewhere, type MemberDirectory } from './recalled-elsewhere.js'
import { isFinal, isLive } from './transaction-state.js'
import { Transaction, type LiveCounter } from './transaction.js'
import { UnseenInProgress } from './unseen-in-progress.js'
import { stateError } from './wrong-state.js'

/** How the coordinator registers a transaction begun here (its reaper, its metrics). */
export type RegisterTransaction = (
  gtrid: string,
  deadline: number,
  timeoutMs: number,
  labels: Record<string, string>,
  options: { reaper: boolean; live: LiveCounter; caller: string | undefined },
) => Transaction

export interface KnownTransactionsDeps {
  readonly config: CoordinatorConfig
  readonly log: DecisionLog
  readonly members?: MemberDirectory | undefined
  /** What a client-named begin must pass, as a Begin does. */
  readonly admission: BeginAdmission
  readonly register: RegisterTransaction
  /** False once a drain stopped new transactions. */
  readonly accepting: () => boolean
}

export class KnownTransactions {
  /** In begin order: forgetOld() finds the oldest first. */
  private readonly txs = new Map<string, Transaction>()
  private readonly namedBegins: ClientNamedBegins
  private readonly unseen = new UnseenInProgress()
  private readonly elsewhere: RecalledElsewhere
  /** ExecuteBatch requests under way, per gtrid (inBatch). */
  private readonly batches = new Map<string, number>()

  constructor(private readonly deps: KnownTransactionsDeps) {
    this.namedBegins = new ClientNamedBegins(deps.config.nodeId, deps.config.maxTimeoutMs)
    this.elsewhere = new RecalledElsewhere(deps.log, deps.config.nodeId, deps.members)
  }

  /** Names this run of the TM (BeginResponse.tm_instance). */
  get instance(): string {
    return this.namedBegins.instance
  }

  /** A new run for client-named begins (ClientNamedBegins.newRun): the node lost its lease. */
  newRun(): void {
    this.namedBegins.newRun()
  }

  /**
   * Runs an ExecuteBatch's statements. A Commit that begins meanwhile rolls
   * the transaction back (batchUnderWay) rather than commit the part of the
   * batch that ran so far: found by hostile testing, a batch racing a Commit
   * had its first statement committed and its second refused.
   */
  async inBatch<T>(gtrid: string, work: () => Promise<T>): Promise<T> {
    this.batches.set(gtrid, (this.batches.get(gtrid) ?? 0) + 1)
    try {
      return await work()
    } finally {
      const left = this.batches.get(gtrid)! - 1
      if (left === 0) this.batches.delete(gtrid)
      else this.batches.set(gtrid, left)
    }
  }

  /** True while an ExecuteBatch runs statements in the transaction. */
  batchUnderWay(gtrid: string): boolean {
    return this.batches.has(gtrid)
  }

  /** The transaction if this node holds it in memory. */
  find(gtrid: string): Transaction | undefined {
    return this.txs.get(gtrid)
  }

  has(gtrid: string): boolean {
    return this.txs.has(gtrid)
  }

  /** Holds `tx` in memory from now on (until forgetOld() forgets it). */
  add(tx: Transaction): void {
    this.txs.set(tx.gtrid, tx)
  }

  list(): Transaction[] {
    return [...this.txs.values()]
  }

  /** The transaction in memory, or a view of what the log remembers of it; else INVALID_ARGUMENT or NOT_FOUND. */
  require(gtrid: string): Transaction {
    if (typeof gtrid !== 'string' || gtrid === '') throw new TmError('TM_INVALID_ARGUMENT', 'gtrid is required')
    const tx = this.txs.get(gtrid)
    if (tx) return tx
    let owner: string
    try {
      owner = parseGtrid(gtrid).nodeId
    } catch (error) {
      throw new TmError('TM_INVALID_ARGUMENT', `malformed gtrid "${gtrid.slice(0, 80)}": ${(error as Error).message}`)
    }
    const logged = this.logged(gtrid)
    // A resolution that mixed the outcome (an operator's forced one, or a branch committed in part: log-end.ts)
    // makes it HEURISTIC for good, also once forgotten or after a restart (found by hostile testing: it read
    // COMMITTED, or NOT_FOUND, "presumed aborted", for a branch committed by hand).
    const mixing = mixingOf(logged)
    if (logged?.decision || mixing) {
      const tx = new Transaction(gtrid, 0, {})
      tx.state = mixing ? 'HEURISTIC' : logged?.ended ? 'COMMITTED' : 'COMMITTING'
      if (mixing) tx.abortReason = heuristicReason(mixing)
      return tx
    }
    // Another node's (a cluster node asked for a transaction it took over, or never held): "never begun here" misled.
    const where = owner === this.deps.config.nodeId ? 'never begun here, or forgotten' : `begun by node "${owner}", and no decision for it is logged where this node looks`
    throw new TmError('TM_TX_NOT_FOUND', `unknown transaction ${gtrid}: ${where} (without a logged decision a two-phase transaction is presumed aborted; a one-phase commit leaves no record)`)
  }

  /** A view of a transaction known only from its logged decision (forgotten from memory), else undefined. */
  fromLog(gtrid: string): Transaction | undefined {
    if (typeof gtrid !== 'string' || gtrid === '' || this.txs.has(gtrid) || !this.hasOutcome(gtrid)) return undefined
    return this.require(gtrid)
  }

  /** The transaction a request works in: ACTIVE and before its deadline (begun here first when the client named it: `begin`). */
  requireActive(gtrid: string, begin?: BeginOptions, runClaim?: object): Transaction {
    const tx = begin === undefined ? this.require(gtrid) : this.requireOrBegin(gtrid, begin, { reaper: true })
    if (tx.state !== 'ACTIVE') throw stateError(tx, 'work in')
    if (tx.runClaim !== undefined && tx.runClaim !== runClaim) throw runsElsewhere(tx)
    if (Date.now() > tx.deadline) throw new TmError('TM_TX_ABORTED', `transaction ${gtrid} passed its deadline`)
    return tx
  }

  /**
   * Throws what a client-named begin of `gtrid` would be refused with here
   * (this node's id, this run of the TM, not closed: ABORTED with
   * beginRefused), begins nothing. A Run asks before its statements are
   * judged by today's config: the repeat of a Run that committed one-phase
   * (which leaves no record) after a restart must hear that its transaction
   * is unknown here, not that its statements are bad.
   */
  checkNamedBegin(gtrid: string, tmInstance: string): void {
    // Named under this run: not a repeat from before a restart, and the begin itself checks the rest.
    if (tmInstance === this.namedBegins.instance) return
    const parts = this.namedBegins.parse(gtrid)
    this.namedBegins.check(gtrid, parts, tmInstance, Number.MAX_SAFE_INTEGER, Date.now(), this.deps.accepting(), logRefusal(this.deps.log))
  }

  /**
   * The transaction a client named itself, begun here if this TM does not
   * know it yet (client-named-begins.ts). `reaper` false: begun by its
   * Commit, it is never ACTIVE after that call, so no deadline reaper.
   */
  requireOrBegin(gtrid: string, begin: BeginOptions, options: { reaper: boolean }): Transaction {
    const known = this.txs.get(gtrid)
    if (known) return known
    if (typeof gtrid === 'string' && gtrid !== '' && this.hasOutcome(gtrid)) return this.require(gtrid)
    const parts = this.namedBegins.parse(gtrid) // a malformed gtrid is INVALID_ARGUMENT before the options are looked at
    const { timeoutMs, labels } = this.deps.admission.checkOptions(begin)
    const now = Date.now()
    const { namedAt } = this.namedBegins.check(gtrid, parts, begin.tmInstance, timeoutMs, now, this.deps.accepting(), logRefusal(this.deps.log))
    const live = this.deps.admission.admit(begin.caller)
    if (!options.reaper) this.unseen.note(now, now - namedAt) // begun by its Commit: it was under way at the client until now
    const tx = this.deps.register(gtrid, namedAt + timeoutMs, timeoutMs, labels, { ...options, live, caller: begin.caller })
    return tx
  }

  /**
   * In a cluster, asks the shared store about a transaction this node does
   * not hold (recalled-elsewhere.ts); require() then answers from what it
   * said. Not for one the client named under this run (`namedUnder`, its
   * tm_instance): it is new here, nothing to ask, and the hot path stays one
   * round trip.
   */
  async recall(gtrid: string, namedUnder?: string): Promise<void> {
    if (typeof gtrid !== 'string' || this.txs.has(gtrid) || (namedUnder !== undefined && namedUnder === this.namedBegins.instance)) return
    await this.elsewhere.recall(gtrid, { named: namedUnder !== undefined })
  }

  /** Unless its transaction is live here: from now on no client may begin `gtrid` (its orphans are about to be rolled back). */
  claimOrphan(gtrid: string): boolean {
    if (this.isLive(gtrid)) return false
    if (!this.txs.has(gtrid)) this.namedBegins.closePresumedAborted(gtrid, Date.now())
    return true
  }

  /** True while this node works on the transaction. */
  isLive(gtrid: string): boolean {
    const tx = this.txs.get(gtrid)
    return tx !== undefined && isLive(tx.state)
  }

  /** True when this node rolled the transaction back and still remembers it. */
  rolledBackHere(gtrid: string): boolean {
    const state = this.txs.get(gtrid)?.state
    return state === 'ROLLED_BACK' || state === 'ROLLING_BACK'
  }

  /** An estimate of the client-named transactions in progress at their clients, to begin with their Commit (unseen-in-progress.ts). */
  unseenInProgress(now: number): number {
    return this.unseen.estimate(now)
  }

  /**
   * Forgets finished transactions older than retentionMs, and the oldest
   * beyond maxRetained (memory: at a thousand transactions a second, ten
   * minutes of them would be gigabytes). A forgotten client-named one stays
   * closed to begins while a client could still name it.
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
      // Closed to begins until the last moment any begin of it could pass check(): its name's time plus the
      // longest timeout. Found by hostile testing: closed only until its own deadline, a repeated Commit with a
      // longer timeout began it afresh, empty, and answered COMMITTED for a transaction that had rolled back.
      const until = (gtridNamedAt(gtrid) ?? tx.createdAt) + this.deps.config.maxTimeoutMs + CLOCK_TOLERANCE_MS
      if (until > now) this.namedBegins.closeForgotten(gtrid, until)
    }
    this.namedBegins.sweep(now)
  }

  /** The log holds an outcome of it to answer with (require()): a decision, or a resolution that mixed it. */
  private hasOutcome(gtrid: string): boolean {
    const logged = this.logged(gtrid)
    return logged?.decision !== undefined || mixingOf(logged) !== undefined
  }

  /** This node's log's record of it, or, for another node's, what the shared store said (recall()): answered, never driven here. */
  private logged(gtrid: string): LoggedTransaction | undefined {
    return this.deps.log.get(gtrid) ?? this.elsewhere.get(gtrid)
  }
}

/** The resolution that mixed a logged transaction's outcome (log-record.ts), if any. */
function mixingOf(logged: LoggedTransaction | undefined): ResolutionRecord | undefined {
  return logged && mixingResolution(logged.decision !== undefined, logged.resolutions)
}

/** What a request that would work in a transaction a Run claimed hears (Transaction.runClaim): nothing of it ran. */
export function runsElsewhere(tx: Transaction): TmError {
  return new TmError(
    'TM_ILLEGAL_STATE',
    `transaction ${tx.gtrid} is a Run's: a Run runs its own statements and commits them, and nothing else may work in it meanwhile. Nothing was done`,
    { metadata: { gtrid: tx.gtrid } },
  )
}
