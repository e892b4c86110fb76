// A branch the TM runs on a pooled MySQL/MariaDB connection: XA START … XA
// END, XA PREPARE. On MariaDB the prepared branch stays attached to this
// connection, so phase 2 runs here while it lives; a connection holding an
// unfinished branch is never reset or returned to the pool: release()
// destroys it (the branch then detaches and is committable from anywhere).
import type { PoolConnection } from 'mysql2/promise'
import { classifyMysqlError } from '../errors/classify-mysql.js'
import { ensureSessionReady } from '../session-guard.js'
import { AdapterError, BranchEscapedError } from '../types.js'
import type { BranchSession, ExecuteOptions, FinishOutcome, PrepareHint, QueryResult, SqlValue, Vote, Xid } from '../types.js'
import type { MysqlConnectionLike } from './mysql-branch-ops.js'
import { abandon, run, writeCount, xaFinish, xaPrepare, xidLiteral } from './mysql-branch-ops.js'
import { statementRefusal } from '../sql/statement-rules.js'
import { toMysqlParam, toQueryResult } from './mysql-values.js'
import type { MysqlFieldLike } from './mysql-values.js'

/** What a session needs from its adapter. */
export interface MysqlSessionHost {
  readonly name: string
  readonly commandTimeoutMs: number
  killQuery(connectionId: string): Promise<void>
  commit(xid: Xid): Promise<FinishOutcome>
  rollback(xid: Xid): Promise<FinishOutcome>
}

type State =
  | 'active' // between XA START and XA END
  | 'prepared' // XA PREPARE succeeded; phase 2 pending (attached here on MariaDB)
  | 'finished' // committed, rolled back or read-only; the connection is clean
  | 'dirty' // finished, but the connection's state is not known to be clean
  | 'broken' // connection lost or outcome unknown

export class MysqlBranchSession implements BranchSession {
  private state: State = 'active'
  private failure: AdapterError | undefined
  private prepareInDoubt = false
  private busy = false
  private released = false

  constructor(
    private readonly host: MysqlSessionHost,
    private readonly conn: PoolConnection,
    readonly xid: Xid,
    readonly serverSessionId: string,
    /** writeCount() at XA START; undefined: no read-only detection. */
    private readonly baseline: bigint | undefined,
  ) {}

  private get c(): MysqlConnectionLike {
    return this.conn
  }

  private ensure(states: State[], what: string): void {
    ensureSessionReady({ resource: this.host.name, xid: this.xid, state: this.state, busy: this.busy, released: this.released }, states, what)
  }

  async execute(sql: string, params: readonly SqlValue[], options?: ExecuteOptions): Promise<QueryResult> {
    this.ensure(['active'], 'execute')
    if (/^\s*XA\b/i.test(sql)) {
      throw new AdapterError('fatal', this.host.name, 'XA statements are not allowed inside a branch: the TM drives XA')
    }
    let values: unknown[]
    try {
      values = params.map(toMysqlParam)
    } catch (err) {
      throw new AdapterError('fatal', this.host.name, `bad parameter: ${(err as Error).message}`, { cause: err })
    }
    // mysql2 binds parameters in the client: the text the server gets is the
    // one to judge (a placeholder inside what the guard reads as a comment
    // could otherwise carry code), and it is sent as judged, unbound again.
    const text = values.length > 0 ? this.conn.format(sql, values) : sql
    if (values.length > 0) {
      const refusal = statementRefusal(text, 'mysql')
      if (refusal !== null) throw new AdapterError('fatal', this.host.name, `with its parameters bound, the statement is refused: ${refusal}`)
    }
    const signal = options?.signal
    if (signal?.aborted === true) throw new AdapterError('retryable', this.host.name, 'execute: aborted before it started')
    const onAbort = (): void => void this.host.killQuery(this.serverSessionId)
    signal?.addEventListener('abort', onAbort, { once: true })
    this.busy = true
    let rows: unknown
    let fields: unknown
    try {
      ;[rows, fields] = await this.conn.query({ sql: text, rowsAsArray: true })
    } catch (err) {
      const e = classifyMysqlError(err, this.host.name)
      this.failure ??= e
      if (e.errorClass === 'retryable') this.state = 'broken'
      throw e
    } finally {
      this.busy = false
      signal?.removeEventListener('abort', onAbort)
    }
    // The server's own word (the OK packet's status flags): still in the XA
    // transaction? Not sent for result sets, whose statements cannot commit
    // (functions and triggers may not: errno 1422); see statement-rules.ts.
    const status = okPacketStatus(rows)
    if (status !== undefined && (status & SERVER_STATUS_IN_TRANS) === 0) {
      this.state = 'broken'
      const e = new BranchEscapedError(this.host.name, `the statement ended the branch's XA transaction (the server reports no transaction after "${sql.slice(0, 60)}")`)
      this.failure ??= e
      throw e
    }
    const qr = toQueryResult(rows, fields as MysqlFieldLike[] | undefined)
    if (options?.maxRows !== undefined && qr.rows.length > options.maxRows) {
      throw new AdapterError('fatal', this.host.name, `result has ${qr.rows.length} rows, more than maxRows ${options.maxRows}`)
    }
    return qr
  }

  async isReadOnly(): Promise<boolean | undefined> {
    if (this.baseline === undefined || this.state !== 'active' || this.busy) return undefined
    try {
      return (await writeCount(this.c, this.host.commandTimeoutMs)) === this.baseline
    } catch {
      return undefined
    }
  }

  async prepare(hint?: PrepareHint): Promise<Vote> {
    if (this.state === 'broken' && this.failure !== undefined && !this.prepareInDoubt && !this.released) {
      return { vote: 'no', reason: `the branch's connection failed: ${this.failure.message}`, error: this.failure }
    }
    this.ensure(['active'], 'prepare')
    this.prepareInDoubt = true
    let vote: Vote
    try {
      vote = await xaPrepare(this.c, this.xid, this.host.name, {
        ...(this.failure === undefined ? {} : { failure: this.failure }),
        // A likely writer skips the read-only check (PrepareHint says why that is safe).
        ...(this.baseline === undefined || hint?.likelyWrote === true ? {} : { baseline: this.baseline }),
        timeoutMs: this.host.commandTimeoutMs,
      })
    } catch (err) {
      this.state = 'broken'
      throw classifyMysqlError(err, this.host.name, 'prepare')
    }
    this.prepareInDoubt = false
    this.state = vote.vote === 'prepared' ? 'prepared' : vote.vote === 'read-only' ? 'finished' : 'dirty'
    return vote
  }

  async commitOnePhase(): Promise<void> {
    const name = this.host.name
    if (this.state === 'broken' && this.failure !== undefined && !this.prepareInDoubt && !this.released) {
      // The connection failed before XA COMMIT was sent: the server dropped the unprepared branch with it.
      throw new AdapterError('vote-no', name, `rolled back: the branch's session failed before XA COMMIT: ${this.failure.message}`, { cause: this.failure })
    }
    this.ensure(['active'], 'commitOnePhase')
    const t = this.host.commandTimeoutMs
    if (this.failure !== undefined) {
      await abandon(this.c, this.xid, name, false, t)
      this.state = 'dirty'
      throw new AdapterError('vote-no', name, `rolled back: a statement of the branch failed: ${this.failure.message}`, {
        cause: this.failure,
      })
    }
    const lit = xidLiteral(this.xid, name)
    let step = 'XA END'
    try {
      await run(this.c, `XA END ${lit}`, t)
      step = 'XA COMMIT ONE PHASE'
      await run(this.c, `XA COMMIT ${lit} ONE PHASE`, t)
      this.state = 'finished'
    } catch (err) {
      const e = classifyMysqlError(err, name, step)
      if (e.errorClass === 'vote-no') {
        await abandon(this.c, this.xid, name, true, t)
        this.state = 'dirty'
      } else {
        this.state = 'broken'
        // XA COMMIT was never sent: the branch is not prepared, so it ends
        // with its connection (destroyed at release). A failure at XA COMMIT
        // itself leaves the outcome to the server: that one stays unknown.
        if (step === 'XA END') {
          throw new AdapterError('vote-no', name, `rolled back: XA END failed before XA COMMIT was sent: ${e.message}`, { cause: e, serverCode: e.serverCode })
        }
      }
      throw e
    }
  }

  async commit(): Promise<FinishOutcome> {
    if (this.state === 'finished' || this.state === 'dirty') return 'already-done'
    this.ensure(['prepared'], 'commit')
    try {
      const out = await xaFinish(this.c, 'COMMIT', this.xid, this.host.name, this.host.commandTimeoutMs)
      this.state = 'finished'
      return out
    } catch (err) {
      const e = classifyMysqlError(err, this.host.name, 'commit')
      if (e.errorClass === 'retryable' && e.serverCode !== '1397') {
        // The connection died: the branch is detached now; finish it from the pool.
        this.state = 'broken'
        await this.release()
        const out = await this.host.commit(this.xid)
        this.state = 'finished'
        return out
      }
      throw e
    }
  }

  async rollback(): Promise<FinishOutcome> {
    if (this.state === 'finished' || this.state === 'dirty') return 'already-done'
    if (this.state === 'broken' || this.released || this.busy) {
      // Destroying the connection rolls back an ACTIVE/IDLE branch; a prepare
      // in doubt (or a prepared branch) detaches and is rolled back by XID.
      const wasPrepared = this.state === 'prepared' || this.prepareInDoubt
      this.state = 'broken'
      await this.release()
      return wasPrepared ? this.host.rollback(this.xid) : 'done'
    }
    if (this.state === 'prepared') {
      const out = await xaFinish(this.c, 'ROLLBACK', this.xid, this.host.name, this.host.commandTimeoutMs)
      this.state = 'finished'
      return out
    }
    await abandon(this.c, this.xid, this.host.name, false, this.host.commandTimeoutMs)
    this.state = 'dirty'
    return 'done'
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    try {
      if (this.state === 'finished' && !this.busy) this.conn.release()
      else this.conn.destroy() // never reset: MariaDB would keep the branch prepared but unlisted
    } catch {
      // already gone
    }
  }
}

/** SERVER_STATUS_IN_TRANS: the session is inside a transaction (set from XA START on, also while IDLE or PREPARED). */
const SERVER_STATUS_IN_TRANS = 0x0001

/** The status flags of the OK packet that ended a statement (the last one of a CALL), or undefined for a result set. */
function okPacketStatus(rows: unknown): number | undefined {
  const last: unknown = Array.isArray(rows) ? rows[rows.length - 1] : rows
  if (typeof last !== 'object' || last === null || Array.isArray(last)) return undefined
  const status = (last as { serverStatus?: unknown }).serverStatus
  return typeof status === 'number' ? status : undefined
}
