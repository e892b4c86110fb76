// The contract every resource adapter fulfils. The coordinator speaks only
// this; adapters never decide (ARCHITECTURE.md, "Resources and adapters").
import type { NodeIdClaim } from './node-id-claim.js'

export type ResourceKind = 'postgres' | 'mysql' | 'redis'

/** An X/Open XA transaction branch id. gtrid and bqual: 1..64 and 0..64 bytes. */
export interface Xid {
  readonly formatId: number
  readonly gtrid: Buffer
  readonly bqual: Buffer
}

/** A typed SQL parameter or result cell; integers are bigint so none is rounded. */
export type SqlValue =
  | { readonly kind: 'null' }
  | { readonly kind: 'bool'; readonly value: boolean }
  | { readonly kind: 'int'; readonly value: bigint }
  | { readonly kind: 'double'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'bytes'; readonly value: Buffer }
  /** Exact decimal as text, e.g. "12.50". */
  | { readonly kind: 'decimal'; readonly value: string }
  /** text: the server's instant exactly, as RFC 3339, when it is finer than Date's milliseconds (a result; answered as is). */
  | { readonly kind: 'timestamp'; readonly value: Date; readonly text?: string }
  /** A JSON document as text. */
  | { readonly kind: 'json'; readonly value: string }

export interface ColumnInfo {
  readonly name: string
  /** The server's type name where the driver tells it ("int4", "VARCHAR"). */
  readonly type: string
}

export interface QueryResult {
  readonly columns: readonly ColumnInfo[]
  readonly rows: readonly (readonly SqlValue[])[]
  readonly affectedRows: number
}

/** A prepare's outcome. "no" carries the reason (and the error it came from). */
export type Vote =
  | { readonly vote: 'prepared' }
  /** Wrote nothing: already finished, takes no part in phase 2. */
  | { readonly vote: 'read-only' }
  /**
   * escaped: the branch's transaction was already over at prepare, ended by
   * a statement (a local branch's own COMMIT or ROLLBACK): its writes may be
   * committed, so the outcome is mixed, not rolled back.
   */
  | { readonly vote: 'no'; readonly reason: string; readonly error?: AdapterError; readonly escaped?: true }

/**
 * "done": this call finished the branch. "already-done": the server does not
 * know the XID and no longer lists it as prepared (so a retry of an earlier
 * successful call). A branch the server still lists is never "already-done".
 */
export type FinishOutcome = 'done' | 'already-done'

/** How the coordinator should react to a failure. */
export type ErrorClass =
  /** Connection lost, server restarting, branch attached to another live session: retry later. */
  | 'retryable'
  /** Deadlock, serialization failure, lock timeout, constraint, XA_RB*: the branch cannot commit. */
  | 'vote-no'
  /** Unknown XID. */
  | 'not-found'
  /** Misconfiguration or permissions: retrying will not help. */
  | 'fatal'

/** Every error an adapter throws. The driver's error stays on `cause`. */
export class AdapterError extends Error {
  override readonly name = 'AdapterError'
  constructor(
    readonly errorClass: ErrorClass,
    /** The resource's name. */
    readonly resource: string,
    message: string,
    options?: {
      cause?: unknown
      /** The server's own code: SQLSTATE, MySQL errno, or a Redis error prefix. */
      serverCode?: string
    },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause })
    this.serverCode = options?.serverCode
  }
  readonly serverCode: string | undefined
}

/**
 * Phase 2 committed a branch only in part: Redis applies a branch's writes
 * without a rollback, and a key changed outside Arbiter between prepare and
 * commit (its locks bind only Arbiter's branches) made some of them fail.
 * The branch is finished (its record is gone; retrying cannot apply the
 * rest), and the transaction's outcome is heuristic, never COMMITTED.
 */
export class PartlyCommittedError extends AdapterError {
  readonly partlyCommitted = true
  constructor(resource: string, message: string) {
    super('fatal', resource, message)
  }
}

/**
 * A statement ended its branch's transaction on the server (the server says
 * the session is no longer in a transaction after it): its writes may have
 * been committed or rolled back by the statement itself, outside the
 * protocol. The outcome of that branch is unknown to the TM.
 */
export class BranchEscapedError extends AdapterError {
  readonly escaped = true
  constructor(resource: string, message: string) {
    super('fatal', resource, message)
  }
}

export interface ExecuteOptions {
  readonly signal?: AbortSignal
  /** Fail (fatal, INVALID_ARGUMENT upstream) when a result has more rows. */
  readonly maxRows?: number
}

/** How a branch is started (ResourceAdapter.begin). */
export interface BeginOptions {
  /** Aborts a begin still waiting for a pooled session. */
  readonly signal?: AbortSignal
  /**
   * The branch's first statement is not a plain read, so the branch will be
   * prepared as a writer (PrepareHint.likelyWrote): an adapter need not take
   * the baseline its read-only vote would need (MariaDB: a SHOW STATUS).
   */
  readonly firstStatementWrites?: boolean
}

/** What the caller knows of a branch when it asks for its vote. */
export interface PrepareHint {
  /**
   * A statement that is not a plain read ran on the branch, so it most likely
   * wrote. The adapter may then skip its read-only check (a round trip, and
   * on MariaDB a costly SHOW STATUS) and prepare: preparing a branch that
   * wrote nothing only costs a prepare (on MariaDB such a branch is rolled
   * back if its session ends before phase 2, and its commit then answers
   * 1402, which the TM's phase 2 takes as done: there was nothing to commit).
   * It never makes a writer look read-only.
   */
  readonly likelyWrote?: boolean
}

/**
 * A branch the TM runs on a session it holds from the adapter's pool
 * (Execute). The session stays bound to the branch until `release()`.
 */

export interface BranchSession {
  readonly xid: Xid
  /** The server's id of the session (PostgreSQL backend pid, MySQL connection id). */
  readonly serverSessionId: string
  /** Runs one statement inside the branch; fails when the branch was ended by it. */
  execute(sql: string, params: readonly SqlValue[], options?: ExecuteOptions): Promise<QueryResult>
  /** True when the branch has written nothing so far (undefined: cannot tell). */
  isReadOnly(): Promise<boolean | undefined>
  /** Ends the branch and prepares it; a vote is verified with the server. */
  prepare(hint?: PrepareHint): Promise<Vote>
  /** Commits an unprepared branch in one phase. Throws 'vote-no' when it rolled back instead. */
  commitOnePhase(): Promise<void>
  /** Phase 2 commit of this prepared branch, on this session while it lives (MariaDB needs that). */
  commit(): Promise<FinishOutcome>
  /** Rolls back, active or prepared. Idempotent. */
  rollback(): Promise<FinishOutcome>
  /** Returns the session to the pool when it is clean, else destroys it. Never throws. */
  release(): Promise<void>
}

/** An Arbiter branch found prepared on a resource. */
export interface PreparedBranch {
  readonly xid: Xid
  /** The server's own spelling of the id (PostgreSQL gid; hex for MySQL). */
  readonly rawId: string
  /** When it was prepared, where the server tells it (PostgreSQL). */
  readonly preparedAt?: Date
}

/** A prepared transaction that is not Arbiter's: listed for operators, never touched. */
export interface ForeignPreparedBranch {
  readonly rawId: string
  readonly preparedAt?: Date
}

export interface ResourceHealth {
  readonly reachable: boolean
  readonly error?: string
  readonly preparedBranches?: number
  /** PostgreSQL: max_prepared_transactions minus the prepared transactions now. */
  readonly preparedHeadroom?: number
  readonly poolInUse?: number
  readonly poolSize?: number
}

export interface ResourceAdapter {
  /** The resource's stable name (it goes into the decision log). */
  readonly name: string
  readonly kind: ResourceKind
  /**
   * The pool branches hold their sessions from: its size, and how long a
   * begin waits for a free session. Undefined: branches hold no session of
   * their own (Redis).
   */
  readonly sessionPool?: { readonly size: number; readonly waitMs: number }
  /** Connects and checks the server can do two-phase commit; a clear 'fatal' error when not. */
  init(): Promise<void>
  /**
   * Which server and database the resource reaches, as the server itself
   * reports it (PostgreSQL: its system identifier and the database; Redis:
   * an id kept in a key of Arbiter's under the prefix), once init() ran.
   * Undefined when the server reports nothing stable (MariaDB). A branch's
   * "unknown XID, so already done" is believed only where it was prepared.
   */
  identity?(): string | undefined
  /** Reads the identity from the server again (the server behind the url may have changed since init). */
  refreshIdentity?(): Promise<string | undefined>
  /**
   * Refuses ('fatal' AdapterError) a statement this resource could never run
   * (a Redis command it does not support, a wrong arity, a key of Arbiter's
   * own), before any branch begins: the TM answers it as bad input.
   */
  checkStatement?(sql: string, params: readonly SqlValue[]): void
  /** Starts a branch on a pooled session. */
  begin(xid: Xid, options?: BeginOptions): Promise<BranchSession>
  /** Phase 2 by XID from any pooled session (recovery, or the preparing session is gone). */
  commit(xid: Xid): Promise<FinishOutcome>
  rollback(xid: Xid): Promise<FinishOutcome>
  /** Arbiter's prepared branches on this resource (Arbiter's formatId only). */
  recover(): Promise<PreparedBranch[]>
  /** Prepared transactions on this resource that are not Arbiter's. */
  listForeign(): Promise<ForeignPreparedBranch[]>
  health(): Promise<ResourceHealth>
  /**
   * Holds `nodeId` at this resource on a session of its own for as long as
   * the claim lives (node-id-claim.ts): the TM takes it before it begins or
   * recovers a branch here. Rejects with NodeIdInUseError ('fatal') when
   * another live session holds it, with what the server says of that session.
   */
  claimNodeId(nodeId: string): Promise<NodeIdClaim>
  close(): Promise<void>
}

/** What the TM's config says about one resource. */
export interface ResourceConfig {
  readonly name: string
  readonly kind: ResourceKind
  /** postgres://…, mysql://…, redis://… */
  readonly url: string
  /** Sessions in the pool (default 10). */
  readonly poolSize?: number
  /** Give up connecting or waiting for a pooled session after this long (default 5000 ms). */
  readonly connectTimeoutMs?: number
}

/**
 * The session-side steps of a local branch, run on the application's own
 * connection (the client library's Enlist mode). `Conn` is the driver's
 * connection type (a pg Client/PoolClient, a mysql2 promise Connection).
 */
/** How a local branch is started (LocalBranchOps.start). */
export interface LocalBranchOptions {
  /**
   * The branch may write nothing: check at prepare whether it wrote, so that
   * a branch that did not leaves without being prepared (read-only vote).
   * Checked only when asked, because most enlisted connections write and
   * the check costs every branch server work: MariaDB a baseline at start
   * and a SHOW STATUS at prepare (~12× a SELECT 1 in server CPU), PostgreSQL
   * a probe SELECT sent with its PREPARE (same round trip). A branch that
   * wrote nothing but is prepared anyway is only a little slower.
   */
  readonly mayOnlyRead?: boolean
}

export interface LocalBranchOps<Conn> {
  /** BEGIN (PostgreSQL) or XA START (MySQL) on the connection. */
  start(conn: Conn, xid: Xid, resource: string, options?: LocalBranchOptions): Promise<void>
  /** Ends and prepares; verified like a managed branch's prepare. `options` as given to start(). */
  prepare(conn: Conn, xid: Xid, resource: string, options?: LocalBranchOptions): Promise<Vote>
  /** Phase 2 on the same connection (required on MariaDB while it lives). */
  commit(conn: Conn, xid: Xid, resource: string): Promise<FinishOutcome>
  /** Rolls back, active or prepared. Idempotent. */
  rollback(conn: Conn, xid: Xid, resource: string): Promise<FinishOutcome>
  /**
   * Where the connection is, as its resource's identity is spelt (ResourceAdapter.identity), once a branch
   * started on it; undefined when not known. The TM refuses a vote from elsewhere than its resource reaches.
   */
  identity?(conn: Conn): string | undefined
}
