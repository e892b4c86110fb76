// Work in an ACTIVE transaction's branches, the two ways ARCHITECTURE.md
// names: statements the TM runs for the application on a managed branch
// (Execute: the branch begins on a pooled session with its first statement),
// and local branches the application enlists to run on its own connection
// (Enlist). A statement that fails, or that the limits or the statement guard
// refuse, rolls the whole transaction back: a caller that went on and
// committed would commit it without that statement. Split from coordinator.ts,
// which begins, commits and rolls back the transactions this work runs in.
import { AdapterError, BranchEscapedError, type QueryResult, type ResourceAdapter, type ResourceKind, type SqlValue, type Xid } from '../../adapters/types.js'
import { ARBITER_FORMAT_ID, xidFromParts } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { Logger } from '../logger.js'
import { inSpan } from '../tracing/spans.js'
import type { BeginAdmission } from './begin-admission.js'
import { abortedError, doomedError, isTransient } from './abort-errors.js'
import type { BeginOptions, CoordinatorConfig } from './coordinator-config.js'
import type { KnownTransactions } from './known-transactions.js'
import type { CoordinatorObserver } from './observer.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { AbortCause } from './rollback-protocol.js'
import { checkStatement, isPlainRead } from './statement-guard.js'
import type { TxState } from './transaction-state.js'
import { onBranch, type Transaction } from './transaction.js'
import { stateError } from './wrong-state.js'

/** OpenTelemetry's db.system names of the adapters' kinds. */
const DB_SYSTEM: Record<string, string> = { postgres: 'postgresql', mysql: 'mysql', redis: 'redis' }

export interface BranchWorkDeps {
  readonly known: KnownTransactions
  readonly resources: ResourceRegistry
  readonly limits: CoordinatorConfig['limits']
  /** Starts a managed branch within its caller's share of the pool. */
  readonly admission: BeginAdmission
  readonly logger: Logger
  readonly observer?: CoordinatorObserver | undefined
  /** Rolls a transaction back as the coordinator does (its hooks and metrics told). */
  readonly abort: (tx: Transaction, cause: AbortCause) => Promise<void>
}

export class BranchWork {
  constructor(private readonly deps: BranchWorkDeps) {}

  /**
   * Runs a statement on the transaction's managed branch on `resource`, begun with it if it is the first there.
   * `runClaim`: the Run it is a statement of, when the transaction is a Run's (Transaction.runClaim).
   */
  async execute(gtrid: string, resource: string, sql: string, params: readonly SqlValue[], begin?: BeginOptions, runClaim?: object): Promise<QueryResult> {
    const { limits } = this.deps
    const tx = this.deps.known.requireActive(gtrid, begin, runClaim)
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
      branch = tx.addBranch(resource, newXid(tx), 'managed')
      const newBranch = branch
      // A pool with no free session makes begin wait at most the resource's
      // connectTimeoutMs (then UNAVAILABLE-class error → ABORTED, retryable);
      // a rollback meanwhile (deadline reaper, Rollback) cancels the begin,
      // waiting for a connection or not yet started.
      // Its span covers taking a pooled session and BEGIN / XA START (a round trip before the first statement).
      newBranch.session = inSpan('arbiter.begin_branch', { 'db.system': DB_SYSTEM[adapter.kind] ?? adapter.kind, 'arbiter.resource': resource, 'arbiter.gtrid': tx.gtrid }, () =>
        this.deps.admission.beginBranch(adapter, tx, newBranch.xid, !isPlainRead(sql)),
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
        if (tx.state !== 'ACTIVE') throw stateError(tx, 'execute')
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
      await this.deps.abort(tx, cause)
      throw error === tooManyRows ? error : abortedError(tx)
    }
  }

  /** The resource's adapter, once the statement passes the limits and the statement guard (else INVALID_ARGUMENT). */
  validateStatement(resource: string, sql: string, params: readonly SqlValue[]): ResourceAdapter {
    const adapter = this.deps.resources.require(resource)
    checkStatementRequest(adapter.kind, sql, params, this.deps.limits)
    try {
      adapter.checkStatement?.(sql, params)
    } catch (error) {
      if (error instanceof AdapterError && error.errorClass === 'fatal') throw new TmError('TM_INVALID_ARGUMENT', error.message, { metadata: { resource } })
      throw error
    }
    return adapter
  }

  /** A statement request refused before the coordinator saw it: its transaction, if active here, rolls back. */
  async refuseRequest(gtrid: string, error: TmError, runClaim?: object): Promise<never> {
    const tx = this.deps.known.find(gtrid)
    if (tx?.state !== 'ACTIVE') throw error
    // A Run's transaction is not another request's to roll back (found by review: a malformed Execute killed a Run).
    if (tx.runClaim !== undefined && tx.runClaim !== runClaim) {
      throw new TmError(error.code, `${error.message} (nothing was done: transaction ${gtrid} is a Run's)`, { metadata: { ...error.metadata, gtrid } })
    }
    return this.refuseStatement(tx, error)
  }

  /** Adds a local branch on `resource`: the application runs it on its own connection, under the XID returned. */
  enlist(gtrid: string, resource: string): Xid {
    const tx = this.deps.known.requireActive(gtrid)
    const adapter = this.deps.resources.require(resource)
    if (adapter.kind === 'redis') {
      throw new TmError('TM_INVALID_ARGUMENT', `resource "${resource}" is Redis: local branches need a SQL connection; use Execute`)
    }
    this.checkBranchLimit(tx)
    const branch = tx.addBranch(resource, newXid(tx), 'local')
    this.deps.logger.debug({ gtrid: tx.gtrid, resource, bqual: branch.xid.bqual.toString('hex') }, 'local branch enlisted')
    return branch.xid
  }

  /**
   * A refused statement rolls its transaction back, as a failed one does: a
   * caller that went on and committed would commit the transaction without
   * the statement it meant to run. Started before the first await, so a
   * Commit pipelined behind the statement finds the transaction rolling back.
   */
  private async refuseStatement(tx: Transaction, error: TmError): Promise<never> {
    await this.deps.abort(tx, { reason: `a statement was refused: ${error.message}` })
    throw new TmError('TM_INVALID_ARGUMENT', `${error.message} (transaction ${tx.gtrid} was rolled back)`, {
      metadata: { ...error.metadata, gtrid: tx.gtrid },
    })
  }

  private checkBranchLimit(tx: Transaction): void {
    const max = this.deps.limits.maxBranchesPerTransaction
    if (tx.branches.length >= max) {
      throw new TmError('TM_INVALID_ARGUMENT', `transaction ${tx.gtrid} already has ${max} branches (limits.maxBranchesPerTransaction)`)
    }
  }
}

/** A new branch's XID: Arbiter's formatId, the transaction's gtrid, a fresh bqual. */
function newXid(tx: Transaction): Xid {
  return xidFromParts(ARBITER_FORMAT_ID, Buffer.from(tx.gtrid), tx.allocateBqual())
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
