// The TM's in-memory record of one global transaction and its branches.
import type { BranchSession, Xid } from '../../adapters/types.js'
import { gtridNamedAt } from '../../adapters/xid/xid.js'
import { isLive, type TxState } from './transaction-state.js'

/**
 * How many registered transactions are live: kept by the state setter, so
 * the active-transactions limit costs O(1) per Begin. A caller's counter
 * (caller-limits.ts) has the node's as its parent: one change counts in both.
 */
export class LiveCounter {
  value = 0
  constructor(private readonly parent?: LiveCounter) {}

  add(n: number): void {
    this.value += n
    this.parent?.add(n)
  }
}

/** One application session stream (its identity is what counts), and the client connection it came on. */
export interface SessionTie {
  readonly peer: string
}

export type BranchMode = 'managed' | 'local'
/**
 * 'escaped': a statement ended the branch on the server outside the protocol; its outcome is unknown.
 * 'abandoned': an operator gave it up, its server gone for good (operator-resolutions.ts); its outcome is unknown.
 */
export type BranchState = 'active' | 'prepared' | 'read-only' | 'committed' | 'rolled-back' | 'failed' | 'escaped' | 'abandoned'
export type CommitPath = 'one-phase' | 'read-only' | 'two-phase'

export interface Branch {
  readonly resource: string
  readonly xid: Xid
  readonly mode: BranchMode
  state: BranchState
  /** Managed branches: the session the branch runs on, once begun. */
  session: Promise<BranchSession> | undefined
  /** Serializes the session's work: statements, then prepare, then phase 2. */
  work: Promise<unknown>
  /** Phase-2 (or cleanup) attempts so far. */
  attempts: number
  lastError: string | undefined
  /** Local branches: the application said it committed it. */
  reportedDone: boolean
  /**
   * False once a statement that is not a plain read ran on it. Only an
   * optimization hint: a branch that may have only read is asked before
   * phase 1 (one round trip); one that surely wrote is not.
   */
  onlyReadsSoFar: boolean
  /** An operator's logged resolution: phase 2 and cleanup stop retrying against it. */
  resolution: 'commit' | 'rollback' | 'abandon' | undefined
  /** Settles once the operator's resolution was carried out or tried: phase 2 giving way to it waits for this. */
  resolving: Promise<void> | undefined
  /** Settles `resolving`. */
  resolved: (() => void) | undefined
  /** Wakes a phase-2 loop waiting for the application's report. */
  wake: (() => void) | undefined
  /** Phase 2 committed it only in part (PartlyCommittedError): what failed. The transaction ends HEURISTIC. */
  partlyCommitted: string | undefined
  /** The tag of the server its resource reached when it was prepared (LoggedBranch.on), when known. */
  preparedOn: string | undefined
}

export class Transaction {
  private current: TxState = 'ACTIVE'
  readonly branches: Branch[] = []
  /** When this object was made: at Begin, or when a restart or takeover brought the transaction back from the log. */
  readonly createdAt = Date.now()
  updatedAt = this.createdAt
  private began: number | undefined
  abortReason: string | undefined
  /** The server's code behind the abort, if any (SQLSTATE, errno). */
  abortServerCode: string | undefined
  /** Whether retrying the whole transaction may succeed (deadlock, timeout). */
  abortRetryable = false
  commitPath: CommitPath | undefined
  /**
   * Why a branch escaped (a statement ended its transaction on the server):
   * the transaction then ends HEURISTIC, never ROLLED_BACK, since that
   * branch's writes may have been committed.
   */
  escaped: string | undefined
  /** A request of its caller was answered "rolled back" (or the caller rolled it back): a drain need not wait to tell it. */
  callerToldRolledBack = false
  /** Who began it (the token's name), for the caller's share of each pool; undefined with auth off. */
  caller: string | undefined
  /** The session stream its last request came on, if any (Coordinator.sessionLost). */
  session: SessionTie | undefined
  /**
   * A statement that was already running when Commit began failed (or
   * returned more rows than allowed): that Commit must roll back instead of
   * committing what the statement's caller was told failed.
   */
  doomed: { readonly reason: string; readonly serverCode?: string | undefined; readonly retryable?: boolean } | undefined
  /**
   * The COMMIT decision was handed to the log and the log has not said it is
   * not there (written: COMMITTING; refused: rolled back). While set, the
   * decision may be durable, or become so (a store statement answered late):
   * nothing may roll the branches back. A stop leaves them prepared, and the
   * next run or a takeover finishes them from what the log holds.
   */
  decisionPending = false
  /** The Run that ran it (named by the client): a repeat of that Run gets this answer. */
  runOutcome: Promise<unknown> | undefined
  /** That Run's statements (run-repeats.ts): a Run with other ones on the same name is not its repeat. */
  runDigest: string | undefined
  /**
   * Set by a Run that names the transaction, before its first statement: from
   * then on only that Run's statements run in it (the claim goes with them),
   * and a Commit answers with the Run's outcome. Found by hostile testing: a
   * Commit racing a Run committed its first statement alone, and an Execute
   * racing it had its write committed by the Run.
   */
  runClaim: object | undefined
  /** Brought back from the decision log (a restart, a takeover): how it began (Run, or Begin and Commit) is not known here. */
  adopted = false
  /** The one Commit in progress: repeats of Commit wait for the same answer. */
  commitOutcome: Promise<unknown> | undefined
  rollbackOutcome: Promise<void> | undefined
  /** Resolves when phase 2 finished every branch. */
  phaseTwoDone: Promise<void> | undefined
  /** True from startPhaseTwo until its work settled, whatever the state says meanwhile (an operator may make it HEURISTIC). */
  phaseTwoRunning = false
  /** Its END record is queued and not yet written: not forgotten until it is (recovery would adopt the decision again). */
  endPending = false
  deadlineTimer: NodeJS.Timeout | undefined
  private canceller: AbortController | undefined
  private nextBqual = 1

  constructor(
    readonly gtrid: string,
    readonly deadline: number,
    readonly labels: Readonly<Record<string, string>>,
    /** The coordinator's counter, for transactions it registers (none for a view rebuilt from the log). */
    private readonly live?: LiveCounter,
  ) {
    live?.add(1) // born ACTIVE
  }

  /**
   * When the transaction began: its gtrid's time (named at Begin, or by the client just before), or this object's
   * creation if earlier. Not createdAt alone: after a takeover that is when the taker adopted it (found by hostile
   * testing: `show` and `transactions` gave the adoption as its creation, and its age from there).
   */
  get beganAt(): number {
    // Read once: every Commit's answer carries it (transaction-view.ts), and the gtrid never changes.
    this.began ??= Math.min(gtridNamedAt(this.gtrid) ?? this.createdAt, this.createdAt)
    return this.began
  }

  get state(): TxState {
    return this.current
  }

  set state(next: TxState) {
    if (this.live && isLive(this.current) !== isLive(next)) this.live.add(isLive(next) ? 1 : -1)
    this.current = next
  }

  /**
   * Aborted when the transaction rolls back: cancels statements still
   * running (a lock wait would hold the rollback). Made on first use: a
   * transaction that begins with its Commit never needs one.
   */
  get cancel(): AbortController {
    return (this.canceller ??= new AbortController())
  }

  /** A fresh branch qualifier: unique within the transaction, even on one resource. */
  allocateBqual(): Buffer {
    return Buffer.from(`b${this.nextBqual++}`, 'ascii')
  }

  managedBranch(resource: string): Branch | undefined {
    return this.branches.find((b) => b.mode === 'managed' && b.resource === resource)
  }

  /** Phase 2 (or an adopted decision's finish) under way: phaseTwoDone, and phaseTwoRunning until it settles (drain.ts waits for it). */
  startPhaseTwo(work: Promise<void>): Promise<void> {
    this.phaseTwoDone = work
    this.phaseTwoRunning = true
    const over = (): void => {
      this.phaseTwoRunning = false
    }
    work.then(over, over)
    return work
  }

  addBranch(resource: string, xid: Xid, mode: BranchMode): Branch {
    const branch: Branch = {
      resource,
      xid,
      mode,
      state: 'active',
      session: undefined,
      work: Promise.resolve(),
      attempts: 0,
      lastError: undefined,
      reportedDone: false,
      resolution: undefined,
      resolving: undefined,
      resolved: undefined,
      onlyReadsSoFar: true,
      wake: undefined,
      partlyCommitted: undefined,
      preparedOn: undefined,
    }
    this.branches.push(branch)
    return branch
  }

  touch(): void {
    this.updatedAt = Date.now()
  }

  /** Whether `caller` may use it: the token that began it (any caller when auth is off, or when it has none). */
  usableBy(caller: string | undefined): boolean {
    return this.caller === undefined || caller === undefined || this.caller === caller
  }
}

/** Runs `task` after everything already queued on the branch's session. */
export function onBranch<T>(branch: Branch, task: () => Promise<T>): Promise<T> {
  const run = branch.work.then(task, task)
  branch.work = run.catch(() => undefined)
  return run
}
