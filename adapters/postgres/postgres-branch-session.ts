// A branch the TM runs on a pooled PostgreSQL session: BEGIN … PREPARE
// TRANSACTION '<gid>'. The session is bound to the branch until release();
// a session that is not clean (status other than 'I') is destroyed, never
// returned to the pool in a transaction.
import type { PoolClient, QueryArrayConfig } from 'pg'
import { classifyPgError } from '../errors/classify-pg.js'
import { ensureSessionReady } from '../session-guard.js'
import { AdapterError, BranchEscapedError } from '../types.js'
import type { BranchSession, ExecuteOptions, FinishOutcome, PrepareHint, QueryResult, SqlValue, Vote, Xid } from '../types.js'
import type { PgClientLike } from './postgres-branch-ops.js'
import { pgFinishPrepared, pgPrepare, pgRollbackOpen, txStatus } from './postgres-branch-ops.js'
import { RAW_TEXT_TYPES, toPgParam, toQueryResult } from './postgres-values.js'

/** What a session needs from its adapter. */
export interface PgSessionHost {
  readonly name: string
  /** Bound for the TM's own short commands (prepare, commit, rollback). */
  readonly commandTimeoutMs: number
  readonly xactIdFunction: string
  cancelBackend(pid: string): Promise<void>
  rollback(xid: Xid): Promise<FinishOutcome>
}

type State =
  | 'active' // in the BEGIN block
  | 'prepared' // PREPARE TRANSACTION succeeded; phase 2 pending
  | 'finished' // committed, rolled back, or read-only
  | 'broken' // connection lost or state unknown: the client is destroyed at release

/** @internal The adapter's own (begin() answers it as a BranchSession); not exported, so its pg PoolClient stays out of the declarations. */
export class PostgresBranchSession implements BranchSession {
  private state: State = 'active'
  private failure: AdapterError | undefined
  /** PREPARE was sent but no answer came back: the branch may be prepared. */
  private prepareInDoubt = false
  private busy = false
  private released = false
  private readonly onClientError = (err: Error): void => {
    this.state = 'broken'
    this.failure ??= classifyPgError(err, this.host.name, 'connection error')
  }

  constructor(
    private readonly host: PgSessionHost,
    private readonly client: PoolClient,
    readonly xid: Xid,
    readonly serverSessionId: string,
  ) {
    client.on('error', this.onClientError)
  }

  private get pgClient(): PgClientLike {
    return this.client
  }

  private ensure(states: State[], what: string): void {
    ensureSessionReady({ resource: this.host.name, xid: this.xid, state: this.state, busy: this.busy, released: this.released }, states, what)
  }

  async execute(sql: string, params: readonly SqlValue[], options?: ExecuteOptions): Promise<QueryResult> {
    this.ensure(['active'], 'execute')
    const signal = options?.signal
    if (signal?.aborted === true) throw new AdapterError('retryable', this.host.name, 'execute: aborted before it started')
    const onAbort = (): void => void this.host.cancelBackend(this.serverSessionId)
    signal?.addEventListener('abort', onAbort, { once: true })
    this.busy = true
    let result
    try {
      const values = params.map(toPgParam)
      // queryMode 'extended': the server accepts exactly one statement.
      result = await this.client.query({
        text: sql,
        values,
        rowMode: 'array',
        types: RAW_TEXT_TYPES,
        queryMode: 'extended',
      } as unknown as QueryArrayConfig)
    } catch (err) {
      const e = classifyPgError(err, this.host.name)
      this.failure ??= e
      // The block is aborted (the recorded failure makes prepare vote no); pg may
      // not have read the ReadyForQuery status yet, so do not look at it here.
      if (e.errorClass === 'retryable') this.state = 'broken'
      throw e
    } finally {
      this.busy = false
      signal?.removeEventListener('abort', onAbort)
    }
    // The server's own word (ReadyForQuery): still in the BEGIN block?
    const status = txStatus(this.pgClient)
    if (status !== 'T') {
      this.state = 'broken'
      const e =
        status === 'I'
          ? new BranchEscapedError(this.host.name, `the statement ended the branch's transaction (PostgreSQL reports the session idle after "${sql.slice(0, 60)}")`)
          : new AdapterError('fatal', this.host.name, `branch ended by statement (transaction status ${status ?? 'unknown'} after "${sql.slice(0, 60)}")`)
      this.failure ??= e
      throw e
    }
    const qr = toQueryResult(result)
    if (options?.maxRows !== undefined && qr.rows.length > options.maxRows) {
      throw new AdapterError('fatal', this.host.name, `result has ${qr.rows.length} rows, more than maxRows ${options.maxRows}`)
    }
    return qr
  }

  async isReadOnly(): Promise<boolean | undefined> {
    if (this.state !== 'active' || this.busy || txStatus(this.pgClient) !== 'T') return undefined
    try {
      const r = await this.pgClient.query({ text: `SELECT ${this.host.xactIdFunction}() IS NULL AS ro` })
      return (r.rows[0] as { ro?: unknown } | undefined)?.ro === true
    } catch {
      return undefined
    }
  }

  async prepare(hint?: PrepareHint): Promise<Vote> {
    if (this.state === 'broken' && this.failure !== undefined && !this.prepareInDoubt && !this.released) {
      return { vote: 'no', reason: `the branch's session failed: ${this.failure.message}`, error: this.failure }
    }
    this.ensure(['active'], 'prepare')
    this.prepareInDoubt = true
    let vote: Vote
    try {
      vote = await pgPrepare(this.pgClient, this.xid, this.host.name, {
        ...(this.failure === undefined ? {} : { failure: this.failure }),
        xactIdFunction: this.host.xactIdFunction,
        timeoutMs: this.host.commandTimeoutMs,
        // A PostgreSQL branch prepared with no write is only a wasted prepare: skip the probe for likely writers.
        probeReadOnly: hint?.likelyWrote !== true,
        asLoginRole: true,
      })
    } catch (err) {
      this.state = 'broken'
      throw classifyPgError(err, this.host.name, 'prepare')
    }
    this.prepareInDoubt = false
    this.state = vote.vote === 'prepared' ? 'prepared' : 'finished'
    if (txStatus(this.pgClient) !== 'I') this.state = vote.vote === 'prepared' ? 'prepared' : 'broken'
    return vote
  }

  async commitOnePhase(): Promise<void> {
    const name = this.host.name
    if (this.state === 'broken' && this.failure !== undefined && !this.prepareInDoubt && !this.released) {
      // The connection failed before COMMIT was sent: the server rolled the open block back.
      throw new AdapterError('vote-no', name, `rolled back: the branch's session failed before COMMIT: ${this.failure.message}`, { cause: this.failure })
    }
    this.ensure(['active'], 'commitOnePhase')
    const t = { query_timeout: this.host.commandTimeoutMs }
    if (this.failure !== undefined || txStatus(this.pgClient) === 'E') {
      await pgRollbackOpen(this.pgClient, name, this.host.commandTimeoutMs).catch(() => undefined)
      this.state = 'finished'
      throw new AdapterError('vote-no', name, `rolled back: ${this.failure?.message ?? 'the transaction was aborted by an earlier error'}`, {
        cause: this.failure,
      })
    }
    let command: string
    try {
      command = (await this.pgClient.query({ text: 'COMMIT', ...t })).command
    } catch (err) {
      const e = classifyPgError(err, name, 'COMMIT')
      // A failed COMMIT (deferred constraint, serialization) rolls back; a lost
      // connection leaves the outcome unknown (retryable).
      this.state = e.errorClass === 'vote-no' ? 'finished' : 'broken'
      throw e
    }
    this.state = 'finished'
    if (command !== 'COMMIT') throw new AdapterError('vote-no', name, `COMMIT rolled back instead (server answered ${command})`)
  }

  async commit(): Promise<FinishOutcome> {
    if (this.state === 'finished') return 'already-done'
    this.ensure(['prepared'], 'commit')
    const out = await pgFinishPrepared(this.pgClient, 'COMMIT', this.xid, this.host.name, this.host.commandTimeoutMs)
    this.state = 'finished'
    return out
  }

  async rollback(): Promise<FinishOutcome> {
    if (this.state === 'finished') return 'already-done'
    if (this.state === 'broken' || this.released) {
      // The client is unusable; an open block dies with it, a prepare in doubt
      // is rolled back by gid from another session.
      if (this.prepareInDoubt) return this.host.rollback(this.xid)
      return 'done'
    }
    if (this.busy) {
      // A statement is still running: destroying the connection ends the block.
      this.state = 'broken'
      await this.release()
      return 'done'
    }
    if (this.state === 'prepared') {
      const out = await pgFinishPrepared(this.pgClient, 'ROLLBACK', this.xid, this.host.name, this.host.commandTimeoutMs)
      this.state = 'finished'
      return out
    }
    try {
      const out = await pgRollbackOpen(this.pgClient, this.host.name, this.host.commandTimeoutMs)
      this.state = 'finished'
      return out
    } catch (err) {
      this.state = 'broken'
      throw err
    }
  }

  async release(): Promise<void> {
    if (this.released) return
    this.released = true
    const clean = !this.busy && this.state !== 'broken' && this.state !== 'active' && txStatus(this.pgClient) === 'I'
    if (clean) {
      // Nothing a statement left on the session (settings made with
      // set_config(…, false), advisory locks, a role) may reach the next
      // caller: DISCARD ALL first, not awaited (the caller does not wait for it).
      const client = this.client
      const release = (destroy: boolean): void => {
        try {
          client.release(destroy ? true : undefined)
        } catch {
          // already released or ended
        }
      }
      void client.query('DISCARD ALL').then(
        () => release(false),
        () => release(true),
      )
    } else {
      try {
        this.client.release(true)
      } catch {
        // already released or ended
      }
    }
    // Keep a no-op listener: a late socket error on a destroyed client must not crash the process.
    this.client.removeListener('error', this.onClientError)
    if (!clean) this.client.on('error', () => undefined)
  }
}
