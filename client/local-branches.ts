// Local branches (ARCHITECTURE.md, "Two ways to do branch work"): the
// application's own pg / mysql2 connections, enlisted in a transaction. The
// session-side steps come from adapters/ (start, prepare, commit, rollback);
// this file keeps the bookkeeping: which connection belongs to which
// transaction, what state each branch is in, and how to get rid of a
// connection whose branch the TM must finish (MariaDB keeps a prepared
// branch attached to its session until that session ends).
import { mysqlLocalBranch, postgresLocalBranch, AdapterError } from '../adapters/index.js'
import type { LocalBranchOps, LocalBranchOptions, MysqlConnectionLike, PgClientLike, Vote, Xid } from '../adapters/index.js'
import { guardEnlistedConnection } from './connection-guard.js'
import type { EnlistableConnection, EnlistableMysqlConnection, EnlistablePgClient } from './enlistable-connection.js'
import { IllegalStateError, InvalidArgumentError, UnavailableError, type ArbiterError } from './errors.js'

type Driver = 'postgres' | 'mysql'

const ACCEPTED =
  'tx.enlist() accepts a connected pg Client or PoolClient (from pool.connect()) or a mysql2/promise Connection or PoolConnection (from pool.getConnection())'

const fn = (o: object, key: string): boolean => typeof (o as Record<string, unknown>)[key] === 'function'

/** Which driver a connection belongs to, told by its shape; anything else is an InvalidArgumentError saying what is accepted. */
export function driverOf(conn: unknown): Driver {
  if (typeof conn !== 'object' || conn === null || !fn(conn, 'query')) {
    throw new InvalidArgumentError(`${ACCEPTED}; got ${conn === null ? 'null' : typeof conn}`)
  }
  const o = conn as Record<string, unknown>
  if (fn(conn, 'getConnection') || (fn(conn, 'connect') && typeof o.totalCount === 'number')) {
    throw new InvalidArgumentError(`${ACCEPTED}; got a pool: enlist one connection checked out of it (and release it after the transaction)`)
  }
  if (fn(conn, 'escapeLiteral') && fn(conn, 'escapeIdentifier')) return 'postgres'
  const inner = o.connection
  if (fn(conn, 'execute') && typeof inner === 'object' && inner !== null && fn(inner, 'query') && !fn(conn, 'promise')) return 'mysql'
  if (fn(conn, 'promise') && fn(conn, 'execute')) {
    throw new InvalidArgumentError(`${ACCEPTED}; got a mysql2 callback-API connection: use mysql2/promise, or pass conn.promise()`)
  }
  throw new InvalidArgumentError(`${ACCEPTED}; got an object that is neither`)
}

/** `T`, when it is a `U` (a compile-time check: LocalBranchOps' methods alone would compare their parameters both ways). */
type Fits<T extends U, U> = T

// The adapters' session-side steps take what enlist() accepts.
const OPS: { postgres: LocalBranchOps<Fits<EnlistablePgClient, PgClientLike>>; mysql: LocalBranchOps<Fits<EnlistableMysqlConnection, MysqlConnectionLike>> } = {
  postgres: postgresLocalBranch,
  mysql: mysqlLocalBranch,
}

/** The transaction (gtrid) each enlisted connection belongs to right now. */
const enlisted = new WeakMap<object, string>()

type BranchState = 'starting' | 'active' | 'failed' | 'prepared' | 'read-only' | 'committed' | 'rolled-back' | 'destroyed'

interface LocalBranch {
  readonly resource: string
  readonly driver: Driver
  readonly conn: EnlistableConnection
  readonly options: LocalBranchOptions
  xid: Xid | undefined
  state: BranchState
  /** Settles when its start (BEGIN / XA START) has finished, either way. */
  started?: Promise<unknown>
  /** Why the branch cannot commit (failed to start, voted no). */
  failure?: string
  retryable?: boolean
  /** Its transaction was over at prepare: ended by the application's own COMMIT or ROLLBACK on the connection. */
  escaped?: boolean
  /** Lifts the guard on the connection's reset/changeUser/release/end (connection-guard.ts). */
  unguard: () => void
}

/** SQLSTATE / errno of failures where a retry of the whole transaction may succeed. */
const TRANSIENT = new Set(['40001', '40P01', '55P03', '1213', '1205', '1614'])

function asArbiterError(error: unknown, resource: string, what: string): ArbiterError {
  const message = `${what} on resource "${resource}": ${error instanceof Error ? error.message : String(error)}`
  if (error instanceof AdapterError && error.errorClass === 'retryable') return new UnavailableError(message, { cause: error })
  return new IllegalStateError(message, { cause: error })
}

function ops(branch: LocalBranch): LocalBranchOps<EnlistableConnection> {
  return OPS[branch.driver]
}

/** Ends a connection hard, so a prepared MariaDB branch detaches and the TM can finish it. Never throws, never waits. */
async function destroyConnection(branch: LocalBranch): Promise<void> {
  branch.state = 'destroyed'
  branch.unguard() // our own end() must get through
  const conn = branch.conn as { destroy?: () => void; end?: () => Promise<void> }
  try {
    if (branch.driver === 'mysql' && typeof conn.destroy === 'function') conn.destroy()
    // Not awaited: pg's end() waits for the server to close its side, which a stalled server never does.
    else if (typeof conn.end === 'function') conn.end().catch(() => undefined)
  } catch {
    // already gone
  }
}

/** Committed, rolled back, read-only or its connection gone: nothing left to end on it. */
function isFinished(branch: LocalBranch): boolean {
  return branch.state === 'committed' || branch.state === 'rolled-back' || branch.state === 'destroyed' || branch.state === 'read-only'
}

const TIMED_OUT = Symbol('timed out')

/** `work`, or TIMED_OUT after `ms`; the work goes on (the caller then ends its connection). */
async function within<T>(work: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  work.catch(() => undefined) // abandoned on timeout: its failure must not go unhandled
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), Math.max(0, ms))))
  try {
    return await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** The outcome of preparing every local branch. */
export type PrepareOutcome =
  | { readonly ok: true; readonly votes: readonly { bqual: Buffer; readOnly: boolean; resource: string; kind: Driver; identity: string }[] }
  | { readonly ok: false; readonly reason: string; readonly retryable: boolean; readonly serverCode?: string | undefined; readonly escaped?: string }

/** @internal The local branches of one transaction. */
export class LocalBranches {
  private readonly branches: LocalBranch[] = []

  constructor(private readonly gtrid: string) {}

  get size(): number {
    return this.branches.length
  }

  /**
   * Enlists `conn`: checks its type, claims it for this transaction, asks the
   * TM for an XID (`enlistRpc`) and starts the branch on the connection.
   */
  async add(resource: string, conn: EnlistableConnection, enlistRpc: () => Promise<Xid>, options: LocalBranchOptions = {}): Promise<Xid> {
    const driver = driverOf(conn)
    const owner = enlisted.get(conn)
    if (owner === this.gtrid) throw new IllegalStateError(`this connection is already enlisted in transaction ${this.gtrid}`)
    if (owner !== undefined) throw new IllegalStateError(`this connection is enlisted in another transaction (${owner}); a connection serves one transaction at a time`)
    if (driver === 'postgres') {
      const status = (conn as EnlistablePgClient).getTransactionStatus?.()
      if (status !== undefined && status !== null && status !== 'I') {
        throw new IllegalStateError(`the pg connection is already inside a transaction (status ${status}): enlist an idle connection`)
      }
    }
    enlisted.set(conn, this.gtrid)
    const unguard = guardEnlistedConnection(conn, driver, () => `a local branch of transaction ${this.gtrid} (resource "${resource}")`)
    const branch: LocalBranch = { resource, driver, conn, options, xid: undefined, state: 'starting', unguard }
    let xid: Xid
    try {
      xid = await enlistRpc()
    } catch (error) {
      unguard()
      enlisted.delete(conn)
      throw error
    }
    // From here the TM expects a vote for this branch: keep it, even when it cannot start.
    branch.xid = xid
    this.branches.push(branch)
    const starting = ops(branch).start(conn, xid, resource, options)
    branch.started = starting.catch(() => undefined)
    try {
      await starting
    } catch (error) {
      if (branch.state === 'starting') branch.state = 'failed'
      branch.failure = `local branch on "${resource}" could not start: ${error instanceof Error ? error.message : String(error)}`
      throw asArbiterError(error, resource, 'could not start the local branch')
    }
    // Rolled back or its connection destroyed meanwhile (the transaction was cancelled): it stays so.
    if (branch.state !== 'starting') throw new IllegalStateError(`transaction ${this.gtrid} ended while this connection was being enlisted`)
    branch.state = 'active'
    return xid
  }

  /**
   * Ends and prepares every active branch in parallel, by `deadline` (ms
   * since the epoch). Any failure, "no" or a prepare still unanswered at the
   * deadline (its connection is then closed; a branch the server prepares
   * anyway has no decision, so the TM rolls it back) → not ok, with the
   * first reason.
   */
  async prepareAll(deadline: number): Promise<PrepareOutcome> {
    const starting = this.branches.find((b) => b.state === 'starting')
    if (starting) {
      // Announcing it would tell the TM it is prepared; it is not even started.
      return {
        ok: false,
        reason: `tx.enlist() of a connection to "${starting.resource}" had not finished when the callback returned: await tx.enlist()`,
        retryable: false,
      }
    }
    await Promise.all(
      this.branches.map(async (b) => {
        if (b.state !== 'active') return
        let vote: Vote
        try {
          const answer = await within(ops(b).prepare(b.conn, b.xid!, b.resource, b.options), deadline - Date.now())
          if (answer === TIMED_OUT) {
            b.failure = `local branch on "${b.resource}" did not answer its prepare in time (the server may be stalled)`
            b.retryable = true
            await destroyConnection(b)
            return
          }
          vote = answer
        } catch (error) {
          const serverCode = error instanceof AdapterError ? error.serverCode : undefined
          vote = { vote: 'no', reason: error instanceof Error ? error.message : String(error), ...(error instanceof AdapterError && { error }) }
          b.retryable = (error instanceof AdapterError && error.errorClass === 'retryable') || TRANSIENT.has(serverCode ?? '')
        }
        if (vote.vote === 'no') {
          b.state = 'failed'
          // Begun at enlist, over by prepare: the application's own COMMIT or ROLLBACK ended it (its writes may have committed).
          if (vote.escaped) b.escaped = true
          b.failure = `local branch on "${b.resource}" voted no: ${vote.reason}`
          b.retryable ??= vote.error?.errorClass === 'retryable' || TRANSIENT.has(vote.error?.serverCode ?? '')
          return
        }
        b.state = vote.vote === 'prepared' ? 'prepared' : 'read-only'
      }),
    )
    const failed = this.branches.find((b) => b.state === 'failed' || (b.state === 'destroyed' && b.failure !== undefined))
    const escaped = this.branches.find((b) => b.escaped)
    if (escaped) {
      const escapedWhy = `the local branch on "${escaped.resource}" was ended by a statement of the application's own on its enlisted connection (COMMIT or ROLLBACK): its writes may be committed while the rest is rolled back`
      return { ok: false, reason: escaped.failure ?? escapedWhy, retryable: false, escaped: escapedWhy }
    }
    if (failed) return { ok: false, reason: failed.failure ?? 'a local branch failed', retryable: failed.retryable ?? false }
    return {
      ok: true,
      // identity '' (proto3's unset): not known, not checked.
      votes: this.branches.map((b) => ({ bqual: b.xid!.bqual, readOnly: b.state === 'read-only', resource: b.resource, kind: b.driver, identity: ops(b).identity?.(b.conn) ?? '' })),
    }
  }

  /**
   * Commits every prepared branch on its own connection (required on
   * MariaDB while the connection lives). Returns the bquals committed; a
   * branch that could not be committed here gets its connection destroyed,
   * so the TM finishes it.
   */
  async commitPrepared(timeoutMs: number): Promise<Buffer[]> {
    const done: Buffer[] = []
    await Promise.all(
      this.branches.map(async (b) => {
        if (b.state !== 'prepared') return
        try {
          // A stalled server must not hold the caller: the TM finishes what is not done here.
          if ((await within(ops(b).commit(b.conn, b.xid!, b.resource), timeoutMs)) === TIMED_OUT) throw new Error('timed out')
          b.state = 'committed'
          done.push(b.xid!.bqual)
        } catch {
          await destroyConnection(b)
        }
      }),
    )
    return done
  }

  /**
   * Rolls back every branch on its connection; one that cannot be cleaned
   * within `timeoutMs` is destroyed. Never throws. Returns why, when a
   * branch not yet prepared was found ended already (its block gone, or
   * another in its place): the application's own COMMIT or ROLLBACK ended
   * it, and its writes may be committed while the rest rolls back.
   */
  async rollbackAll(timeoutMs: number): Promise<string | undefined> {
    let escaped: string | undefined
    await Promise.all(
      this.branches.map(async (b) => {
        try {
          // A start still in flight (an enlist not awaited): roll back what it leaves, not what it was.
          if (b.state === 'starting' && (await within(b.started!, timeoutMs)) === TIMED_OUT) throw new Error('timed out')
          if (isFinished(b)) return
          const wasOpen = b.state === 'active'
          const outcome = await within(ops(b).rollback(b.conn, b.xid!, b.resource), timeoutMs)
          if (outcome === TIMED_OUT) throw new Error('timed out')
          b.state = 'rolled-back'
          // 'already-done' for a branch still open: it was not there to roll back, so the application ended it itself
          // (PostgreSQL: the block lost its mark; MariaDB: XAER_NOTA and not in XA RECOVER, after the application's
          // own XA END and XA COMMIT, found by hostile testing). A branch MariaDB rolled back after a deadlock is 'done'.
          if (wasOpen && outcome === 'already-done') {
            b.escaped = true
            escaped ??= `the local branch on "${b.resource}" was ended by a statement of the application's own on its enlisted connection (COMMIT or ROLLBACK) before the transaction rolled back: its writes may be committed while the rest is rolled back`
          }
        } catch {
          await destroyConnection(b)
        }
      }),
    )
    return escaped
  }

  /**
   * Ends every unfinished branch by destroying its connection: for a
   * cancelled callback that may still be running statements on them. A
   * rollback queued behind those would let the callback's next statements
   * run outside any transaction and commit on their own; on a closed
   * connection they fail, and the server rolls the open branch back. Never throws.
   */
  async destroyAll(): Promise<void> {
    await Promise.all(this.branches.filter((b) => !isFinished(b)).map((b) => destroyConnection(b)))
  }

  /** Destroys the connections of prepared branches: the TM (recovery) finishes them. Never throws. */
  async abandonPrepared(): Promise<void> {
    await Promise.all(this.branches.filter((b) => b.state === 'prepared').map((b) => destroyConnection(b)))
  }

  /** Frees every connection for other transactions. */
  releaseAll(): void {
    for (const b of this.branches) {
      b.unguard()
      enlisted.delete(b.conn)
    }
  }
}
