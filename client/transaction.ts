// The handle a transaction() callback receives: statements through the TM
// (execute) and the application's own connections (enlist).
import { ARBITER_FORMAT_ID, xidFromParts, type Xid } from '../adapters/index.js'
import { IllegalStateError, InvalidArgumentError } from './errors.js'
import type { EnlistableConnection } from './enlistable-connection.js'
import { LocalBranches } from './local-branches.js'
import type { TmRpc } from './tm-rpc.js'
import { paramsNotArray, toWireStatements, type Statement } from './statements.js'
import type { BeginRequest } from '../proto/gen/arbiter/v1/BeginRequest.js'
import { fromResultSet, toProtoValue, type ExecuteResult, type SqlParam } from './values.js'

/** The transaction inside a client.transaction() callback. */
export interface Transaction {
  /** The global transaction id (`node:ULID`), given by the TM or named by the client for it. */
  readonly gtrid: string
  /** When the TM rolls the transaction back unless it has committed. */
  readonly deadline: Date
  /** Aborted when the transaction is cancelled (the caller's signal); pass it on to long work in the callback. */
  readonly signal: AbortSignal
  /**
   * Runs one statement on `resource` inside the transaction, through the TM.
   * A failing statement rolls the whole transaction back: it rejects with
   * TransactionAbortedError (`retryable` says whether a retry may help).
   * `Row` types the rows (default: Record<string, unknown>); it is not checked.
   */
  execute<Row = Record<string, unknown>>(resource: string, sql: string, params?: readonly SqlParam[]): Promise<ExecuteResult<Row>>
  /**
   * Runs several statements in order (each on its resource), through the TM
   * in one round trip; resolves with one result per statement. A statement
   * that fails or is refused stops the batch and rolls the whole transaction
   * back (the error says which statement).
   */
  executeBatch(statements: readonly Statement[]): Promise<ExecuteResult[]>
  /**
   * Enlists the application's own connection as a local branch on `resource`
   * (a connected pg Client/PoolClient or a mysql2/promise Connection/PoolConnection,
   * idle, not enlisted anywhere else). Run its statements with the driver as
   * usual after this resolves; prepare and commit are the client's job.
   * The connection is free again when transaction() returns or throws.
   */
  enlist(resource: string, connection: EnlistableConnection, options?: EnlistOptions): Promise<void>
}

/** Options of tx.enlist(). */
export interface EnlistOptions {
  /**
   * The branch may write nothing (default false). Then the client checks at
   * commit whether it wrote, and a branch that did not is finished without
   * being prepared (it votes read-only). Unmarked branches are not checked,
   * because the check costs every branch server work (MariaDB/MySQL: a SHOW
   * STATUS, ~12× a SELECT 1 in server CPU; PostgreSQL: a probe SELECT sent
   * with the PREPARE). A branch that wrote nothing but is prepared anyway is
   * only a little slower.
   */
  readonly mayOnlyRead?: boolean
}

/** @internal The implementation behind Transaction, driven by the transaction runner. */
export class TransactionHandle implements Transaction {
  readonly local: LocalBranches
  /** Made on first use of `signal`: most callbacks never look at it, and an AbortController is not free. */
  private controller: AbortController | undefined
  /** Why the transaction was cancelled (close with a reason), once it was. */
  private cancelled: { readonly reason: unknown } | undefined
  private open = true
  private localBranchCount = 0

  /**
   * Begin's options while the TM may not know the transaction yet (the
   * client named it): sent with every request until one is answered.
   */
  pendingBegin: BeginRequest | undefined
  /** Whether any request of this transaction went to the TM (else there is nothing to roll back there). */
  contactedTm = false

  constructor(
    private readonly rpc: TmRpc,
    readonly gtrid: string,
    readonly deadline: Date,
    pendingBegin?: BeginRequest,
  ) {
    this.local = new LocalBranches(gtrid)
    this.pendingBegin = pendingBegin
    this.contactedTm = pendingBegin === undefined
  }

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController()
      if (this.cancelled) this.controller.abort(this.cancelled.reason)
    }
    return this.controller.signal
  }

  async execute<Row = Record<string, unknown>>(resource: string, sql: string, params: readonly SqlParam[] = []): Promise<ExecuteResult<Row>> {
    this.checkOpen('execute')
    if (typeof resource !== 'string' || resource === '') throw new InvalidArgumentError('execute(): resource is required')
    if (typeof sql !== 'string' || sql === '') throw new InvalidArgumentError('execute(): sql is required')
    const given: unknown = params
    if (!Array.isArray(given)) throw new InvalidArgumentError(paramsNotArray('execute()', given))
    const wire = params.map((p, i) => toProtoValue(p, i + 1))
    const begin = this.pendingBegin
    this.contactedTm = true
    const response = await this.rpc.execute({ gtrid: this.gtrid, statement: { resource, sql, params: wire }, begin }, { signal: this.signal })
    this.pendingBegin = undefined
    return fromResultSet<Row>(response.result)
  }

  async executeBatch(statements: readonly Statement[]): Promise<ExecuteResult[]> {
    this.checkOpen('executeBatch')
    const wire = toWireStatements(statements, 'executeBatch()')
    const begin = this.pendingBegin
    this.contactedTm = true
    const response = await this.rpc.executeBatch({ gtrid: this.gtrid, statements: wire, begin }, { signal: this.signal })
    this.pendingBegin = undefined
    return response.results.map((r) => fromResultSet(r))
  }

  async enlist(resource: string, connection: EnlistableConnection, options: EnlistOptions = {}): Promise<void> {
    this.checkOpen('enlist')
    if (typeof resource !== 'string' || resource === '') throw new InvalidArgumentError('enlist(): resource is required')
    if (options.mayOnlyRead !== undefined && typeof options.mayOnlyRead !== 'boolean') {
      throw new InvalidArgumentError('enlist(): options.mayOnlyRead must be a boolean')
    }
    // The branch is named here rather than by an Enlist call (one round trip
    // less per connection): XID (Arbiter's formatId, gtrid, "L<n>"), announced
    // to the TM with its resource in Commit's votes. The TM's own are "b<n>".
    await this.local.add(
      resource,
      connection,
      async (): Promise<Xid> => xidFromParts(ARBITER_FORMAT_ID, Buffer.from(this.gtrid), Buffer.from(`L${++this.localBranchCount}`)),
      { mayOnlyRead: options.mayOnlyRead === true },
    )
  }

  /** No more statements or enlistments: the callback has finished (or was abandoned). */
  close(reason?: unknown): void {
    this.open = false
    if (reason === undefined || this.cancelled) return
    this.cancelled = { reason }
    this.controller?.abort(reason)
  }

  private checkOpen(what: string): void {
    if (this.cancelled) throw this.cancelled.reason as Error
    if (!this.open) throw new IllegalStateError(`${what}(): transaction ${this.gtrid} is no longer open (its callback has returned)`)
  }
}
