// The MySQL / MariaDB resource adapter (mysql2/promise, text protocol).
//
// Servers (detected at init from VERSION()):
// - MariaDB (verified 10.11): a prepared branch stays attached to the session
//   that prepared it; XA COMMIT from another session answers 1397 although
//   XA RECOVER lists it. So a branch is finished on its own session while it
//   lives (BranchSession.commit), and commit(xid) here treats 1397 as done
//   only when XA RECOVER no longer lists the XID (else 'retryable').
// - MySQL 8.0.29+ detaches the branch at XA PREPARE (xa_detach_on_prepare,
//   default ON); the same code is correct there. XA RECOVER needs the
//   XA_RECOVER_ADMIN privilege on MySQL 8 (init fails 'fatal' without it).
// Both: plain `XA RECOVER` (MariaDB rejects CONVERT XID), data split by
// gtrid_length/bqual_length. A connection holding an unfinished branch is
// destroyed, never reset (MariaDB then drops a prepared branch while answering
// OK to its XA COMMIT); a clean one is reset (COM_RESET_CONNECTION) as it goes
// back to the pool, so nothing a statement left on the session (user
// variables, GET_LOCK locks, session settings) reaches the next caller.
//
// Read-only branches: voted by comparing the session's Handler_write/update/
// delete counters at XA START and at prepare (see writeCount); a read-only
// branch is finished with XA COMMIT … ONE PHASE and never left prepared. The
// reset zeroes those counters, so every branch that may only read takes its
// own baseline at XA START (a branch that starts with a write needs none).
import mysql from 'mysql2/promise'
import type { Pool, PoolConnection } from 'mysql2/promise'
import { classifyMysqlError } from '../errors/classify-mysql.js'
import { waitForConnection } from '../pool-wait.js'
import { AdapterError } from '../types.js'
import type {
  BeginOptions,
  BranchSession,
  FinishOutcome,
  ForeignPreparedBranch,
  PreparedBranch,
  ResourceAdapter,
  ResourceConfig,
  ResourceHealth,
  Xid,
} from '../types.js'
import { mysqlRecoverRowRawId, mysqlRecoverRowToXid } from '../xid/xid.js'
import type { MysqlConnectionLike } from './mysql-branch-ops.js'
import { run, writeCount, xaFinish, xaRecoverRows, xaStart, xidLiteral } from './mysql-branch-ops.js'
import { MysqlBranchSession } from './mysql-branch-session.js'
import { claimMysqlNodeId } from './mysql-node-id-claim.js'
import type { NodeIdClaim } from '../node-id-claim.js'
import type { MysqlSessionHost } from './mysql-branch-session.js'

/**
 * The session time zone of every TM session. TIMESTAMP values and NOW() are
 * read and written in the session's time_zone; the adapter writes and reads
 * dates as UTC, so the session must be in UTC whatever the server's global
 * time_zone (SYSTEM on a host in local time, default_time_zone, …).
 */
export const SESSION_TIME_ZONE_SQL = "SET time_zone = '+00:00'"

/** The callback-API pool connection under mysql2/promise (what the pool's events hand out). */
interface CorePoolConnection {
  on(event: string, listener: () => void): void
  query(sql: string, callback: (error: Error | null) => void): unknown
  reset(callback: (error: Error | null) => void): unknown
  destroy(): void
}

/**
 * Sets time_zone '+00:00' on a new connection (queued before the first
 * command its caller sends) and again after every reset: the pool resets a
 * connection (COM_RESET_CONNECTION, which puts the global time_zone back) as
 * it goes back to the pool, and the SET follows it there, before the
 * connection is free again. So a transaction pays no round trip for it. A
 * connection whose SET fails is not used: the reset reports the error and the
 * pool destroys it; on a new one it is destroyed at once (its caller's
 * command then fails as 'retryable').
 */
function pinSessionTimeZone(core: CorePoolConnection): void {
  core.query(SESSION_TIME_ZONE_SQL, (error) => {
    if (error) core.destroy()
  })
  const reset = core.reset.bind(core)
  core.reset = (callback) =>
    reset((error) => {
      if (error) callback(error)
      else core.query(SESSION_TIME_ZONE_SQL, callback)
    })
}

export interface MysqlAdapterOptions {
  /** Bound on the TM's own XA commands and recovery queries; default 15000 ms. */
  readonly commandTimeoutMs?: number
  /** Vote read-only by the session's write counters (default true). */
  readonly detectReadOnly?: boolean
}

export interface MysqlServerInfo {
  readonly version: string
  readonly mariadb: boolean
  /** MySQL ≥ 8.0.29: @@xa_detach_on_prepare; MariaDB: false (always attached). */
  readonly detachOnPrepare: boolean
}

export class MysqlAdapter implements ResourceAdapter, MysqlSessionHost {
  readonly kind = 'mysql' as const
  readonly name: string
  readonly commandTimeoutMs: number
  private readonly pool: Pool
  private readonly poolSize: number

  get sessionPool(): { size: number; waitMs: number } {
    return { size: this.poolSize, waitMs: this.connectTimeoutMs }
  }
  private readonly connectTimeoutMs: number
  private readonly detectReadOnly: boolean
  private info: MysqlServerInfo | undefined
  private readonly url: string

  constructor(config: ResourceConfig, options: MysqlAdapterOptions = {}) {
    this.name = config.name
    this.url = config.url
    this.poolSize = config.poolSize ?? 10
    this.connectTimeoutMs = config.connectTimeoutMs ?? 5000
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15000
    this.detectReadOnly = options.detectReadOnly ?? true
    this.pool = mysql.createPool({
      uri: config.url.replace(/^mariadb:/, 'mysql:'),
      connectionLimit: this.poolSize,
      connectTimeout: this.connectTimeoutMs,
      waitForConnections: true,
      queueLimit: 0,
      supportBigNumbers: true,
      bigNumberStrings: true,
      jsonStrings: true,
      // DATE/DATETIME/TIMESTAMP as the server's text, read strictly (mysql-values.ts).
      dateStrings: true,
      // Date parameters are written in UTC, to sessions that run in UTC (below).
      timezone: 'Z',
      multipleStatements: false,
      enableKeepAlive: true,
      // Clean connections only reach the pool (see above): reset them on the way.
      resetOnRelease: true,
      // No long stack trace captured per query (mysql2's default costs a
      // stack capture on every call); errors are classified by their codes.
      trace: false,
    })
    this.pool.on('connection', (conn) => {
      const core = conn as unknown as CorePoolConnection
      // An error on an idle connection must not crash the process.
      core.on('error', () => undefined)
      pinSessionTimeZone(core)
    })
  }

  /** What init() found out about the server. */
  get server(): MysqlServerInfo | undefined {
    return this.info
  }

  private async acquire(what: string, signal?: AbortSignal): Promise<PoolConnection> {
    try {
      return await waitForConnection(this.pool.getConnection(), {
        signal,
        timeout: { ms: this.connectTimeoutMs, error: () => new AdapterError('retryable', this.name, `${what}: no connection within ${this.connectTimeoutMs} ms`) },
        abortError: () => new AdapterError('retryable', this.name, `${what}: the transaction ended while waiting for a connection`),
        giveBack: (c) => c.release(),
      })
    } catch (err) {
      throw classifyMysqlError(err, this.name, `${what}: connect`)
    }
  }

  private async withConn<T>(what: string, fn: (c: MysqlConnectionLike) => Promise<T>): Promise<T> {
    const conn = await this.acquire(what)
    let destroy = false
    try {
      return await fn(conn)
    } catch (err) {
      const e = classifyMysqlError(err, this.name, what)
      if (e.errorClass === 'retryable' && e.serverCode !== '1397') destroy = true
      throw e
    } finally {
      if (destroy) conn.destroy()
      else conn.release()
    }
  }

  async init(): Promise<void> {
    this.info = await this.withConn('init', async (c) => {
      const rows = (await run(c, 'SELECT VERSION() AS v', this.commandTimeoutMs)) as { v: string }[]
      const version = rows[0]?.v ?? ''
      const mariadb = /mariadb/i.test(version)
      let detachOnPrepare = false
      if (!mariadb) {
        try {
          const r = (await run(c, 'SELECT @@xa_detach_on_prepare AS d', this.commandTimeoutMs)) as { d: unknown }[]
          detachOnPrepare = String(r[0]?.d) === '1'
        } catch {
          detachOnPrepare = false // before 8.0.29: attached, like MariaDB
        }
      }
      try {
        await run(c, 'XA RECOVER', this.commandTimeoutMs)
      } catch (err) {
        const e = classifyMysqlError(err, this.name, 'init: XA RECOVER')
        if (e.errorClass === 'fatal') {
          throw new AdapterError(
            'fatal',
            this.name,
            `MySQL resource "${this.name}" cannot recover XA branches: ${e.message}. On MySQL 8 grant XA_RECOVER_ADMIN to the TM's user`,
            { cause: err, ...(e.serverCode === undefined ? {} : { serverCode: e.serverCode }) },
          )
        }
        throw e
      }
      return { version, mariadb, detachOnPrepare }
    })
  }

  async begin(xid: Xid, options?: BeginOptions): Promise<BranchSession> {
    xidLiteral(xid, this.name)
    if (options?.signal?.aborted === true) throw new AdapterError('retryable', this.name, 'begin: aborted')
    const conn = await this.acquire('begin', options?.signal)
    const c = conn as unknown as MysqlConnectionLike
    let baseline: bigint | undefined
    // A branch that starts with a write is prepared as a writer: it needs no
    // baseline, and SHOW STATUS costs MariaDB ~12× a SELECT 1 in CPU.
    const needsBaseline = this.detectReadOnly && options?.firstStatementWrites !== true
    try {
      if (needsBaseline && baseline === undefined) baseline = await writeCount(c, this.commandTimeoutMs)
      await xaStart(c, xid, this.name, this.commandTimeoutMs)
    } catch (err) {
      conn.destroy()
      throw classifyMysqlError(err, this.name, 'begin')
    }
    return new MysqlBranchSession(this, conn, xid, String(conn.threadId), baseline)
  }

  async commit(xid: Xid): Promise<FinishOutcome> {
    return this.withConn('commit', (c) => xaFinish(c, 'COMMIT', xid, this.name, this.commandTimeoutMs))
  }

  async rollback(xid: Xid): Promise<FinishOutcome> {
    return this.withConn('rollback', (c) => xaFinish(c, 'ROLLBACK', xid, this.name, this.commandTimeoutMs))
  }

  async recover(): Promise<PreparedBranch[]> {
    const rows = await this.withConn('recover', (c) => xaRecoverRows(c, this.name, this.commandTimeoutMs))
    const out: PreparedBranch[] = []
    for (const row of rows) {
      const xid = mysqlRecoverRowToXid(row)
      if (xid !== undefined) out.push({ xid, rawId: mysqlRecoverRowRawId(row) })
    }
    return out
  }

  async listForeign(): Promise<ForeignPreparedBranch[]> {
    const rows = await this.withConn('listForeign', (c) => xaRecoverRows(c, this.name, this.commandTimeoutMs))
    return rows.filter((r) => mysqlRecoverRowToXid(r) === undefined).map((r) => ({ rawId: mysqlRecoverRowRawId(r) }))
  }

  private poolUsage(): { poolInUse?: number; poolSize: number } {
    // mysql2 keeps its connections on the callback pool (not public API). One handed out has _released false; one
    // released is not in the free list until its reset (resetOnRelease, a round trip) is done, so counting
    // all minus free read a pool at rest as busy (found by a newcomer: "POOL 1/10" on an idle MySQL resource).
    const all = (this.pool as unknown as { pool?: { _allConnections?: { length: number; get(i: number): { _released?: boolean } | undefined } } }).pool
      ?._allConnections
    if (all === undefined || typeof all.get !== 'function') return { poolSize: this.poolSize }
    let inUse = 0
    for (let i = 0; i < all.length; i++) if (all.get(i)?._released === false) inUse++
    return { poolInUse: inUse, poolSize: this.poolSize }
  }

  async health(): Promise<ResourceHealth> {
    const pool = this.poolUsage() // before the check takes a connection of its own
    try {
      const mine = await this.recover()
      return { reachable: true, preparedBranches: mine.length, ...pool }
    } catch (err) {
      return { reachable: false, error: err instanceof Error ? err.message : String(err), ...pool }
    }
  }

  /** KILL QUERY on a branch's connection (AbortSignal on execute): the statement fails, the branch votes no. */
  claimNodeId(nodeId: string): Promise<NodeIdClaim> {
    return claimMysqlNodeId({ resource: this.name, url: this.url, nodeId, connectTimeoutMs: this.connectTimeoutMs, commandTimeoutMs: this.commandTimeoutMs })
  }

  async killQuery(connectionId: string): Promise<void> {
    if (!/^\d+$/.test(connectionId)) return
    try {
      await this.withConn('kill', (c) => run(c, `KILL QUERY ${connectionId}`, this.commandTimeoutMs))
    } catch {
      // best effort
    }
  }

  async close(): Promise<void> {
    try {
      await this.pool.end()
    } catch {
      // already ended
    }
  }
}
