// The XA steps shared by managed sessions (MysqlBranchSession) and the
// application's own connections (mysqlLocalBranch). xa-semantics.md §2.
import { classifyMysqlError } from '../errors/classify-mysql.js'
import { AdapterError } from '../types.js'
import type { FinishOutcome, Vote, Xid } from '../types.js'
import type { MysqlRecoverRow } from '../xid/xid.js'
import { decodeMysqlRecoverRow, xidEquals, xidToMysqlLiteral, xidToString } from '../xid/xid.js'

type MysqlQueryOptions = { sql: string; values?: unknown; rowsAsArray?: boolean; timeout?: number }

/** The part of a mysql2/promise Connection / PoolConnection the XA steps use. */
export interface MysqlConnectionLike {
  query(options: MysqlQueryOptions): Promise<[unknown, unknown]>
  /**
   * At run time, mysql2/promise keeps the callback-API connection here (its
   * typings call it a promise Connection, which it is not). The XA steps
   * talk to it directly: the promise layer captures a stack trace per call
   * on an application's pool with mysql2's default `trace: true`, and the
   * steps never show their stacks (errors are classified by their codes).
   */
  readonly connection?: unknown
}

interface MysqlCallbackConnection {
  query(options: string | MysqlQueryOptions, callback: (error: Error | null, rows: unknown) => void): unknown
  promise(): unknown
}

function callbackConnectionUnder(conn: MysqlConnectionLike): MysqlCallbackConnection | undefined {
  const core = conn.connection as Partial<MysqlCallbackConnection> | null | undefined
  // Only the callback API has promise(); anything else goes through conn.query.
  return typeof core?.query === 'function' && typeof core.promise === 'function' ? (core as MysqlCallbackConnection) : undefined
}

export function xidLiteral(xid: Xid, resource: string): string {
  try {
    return xidToMysqlLiteral(xid)
  } catch (err) {
    throw new AdapterError('fatal', resource, `illegal XID: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

export async function run(conn: MysqlConnectionLike, sql: string, timeoutMs?: number): Promise<unknown> {
  const core = callbackConnectionUnder(conn)
  if (core === undefined) {
    const [rows] = await conn.query(timeoutMs === undefined ? { sql } : { sql, timeout: timeoutMs })
    return rows
  }
  // A bare string when there is no timeout: mysql2 copies an options object into each query.
  const query = timeoutMs === undefined ? sql : { sql, timeout: timeoutMs }
  return new Promise((resolve, reject) => {
    core.query(query, (error, rows) => (error ? reject(error) : resolve(rows)))
  })
}

function errnoOf(e: AdapterError): number | undefined {
  return e.serverCode !== undefined && /^\d+$/.test(e.serverCode) ? Number(e.serverCode) : undefined
}

/**
 * The session's count of row writes (Handler_write + Handler_update +
 * Handler_delete). MariaDB counts internal temporary tables separately
 * (Handler_tmp_*), so an unchanged sum over a branch means it wrote no row.
 * Measured on MariaDB 10.11: SHOW STATUS itself, SELECT … FOR UPDATE and a
 * no-op UPDATE leave it unchanged; every real INSERT/UPDATE/DELETE moves it.
 */
export async function writeCount(conn: MysqlConnectionLike, timeoutMs?: number): Promise<bigint> {
  const rows = (await run(
    conn,
    "SHOW SESSION STATUS WHERE Variable_name IN ('Handler_write','Handler_update','Handler_delete')",
    timeoutMs,
  )) as { Value: string | number }[]
  return rows.reduce((sum, r) => sum + BigInt(r.Value), 0n)
}

/** The XA RECOVER rows (every prepared branch of the server, attached or not). */
export async function xaRecoverRows(conn: MysqlConnectionLike, resource: string, timeoutMs?: number): Promise<MysqlRecoverRow[]> {
  try {
    // Plain XA RECOVER: MariaDB rejects CONVERT XID; data is gtrid‖bqual, split by the lengths.
    return (await run(conn, 'XA RECOVER', timeoutMs)) as MysqlRecoverRow[]
  } catch (err) {
    throw classifyMysqlError(err, resource, 'XA RECOVER')
  }
}

export async function isListed(conn: MysqlConnectionLike, xid: Xid, resource: string, timeoutMs?: number): Promise<boolean> {
  const rows = await xaRecoverRows(conn, resource, timeoutMs)
  return rows.some((r) => {
    const x = decodeMysqlRecoverRow(r)
    return x !== undefined && xidEquals(x, xid)
  })
}

export async function xaStart(conn: MysqlConnectionLike, xid: Xid, resource: string, timeoutMs?: number): Promise<void> {
  try {
    await run(conn, `XA START ${xidLiteral(xid, resource)}`, timeoutMs)
  } catch (err) {
    throw classifyMysqlError(err, resource, 'XA START')
  }
}

async function quietly(conn: MysqlConnectionLike, sql: string, timeoutMs?: number): Promise<void> {
  try {
    await run(conn, sql, timeoutMs)
  } catch {
    // best effort: the caller destroys a connection it could not clean
  }
}

/** XA END (ignoring "wrong state") then XA ROLLBACK, ignoring errors. */
export async function abandon(conn: MysqlConnectionLike, xid: Xid, resource: string, ended: boolean, timeoutMs?: number): Promise<void> {
  const lit = xidLiteral(xid, resource)
  if (!ended) await quietly(conn, `XA END ${lit}`, timeoutMs)
  await quietly(conn, `XA ROLLBACK ${lit}`, timeoutMs)
}

export interface MysqlPrepareOptions {
  /** An earlier statement of the branch failed: never vote yes. */
  readonly failure?: AdapterError
  /** writeCount() when the branch started; enables the read-only vote. */
  readonly baseline?: bigint
  /** Told the count read for the read-only vote. */
  readonly onWriteCount?: (count: bigint) => void
  readonly timeoutMs?: number
}

function no(reason: string, error?: AdapterError): Vote {
  return error === undefined ? { vote: 'no', reason } : { vote: 'no', reason, error }
}

/**
 * XA END + XA PREPARE of an ACTIVE branch. Read-only (no row written since
 * the baseline) → XA COMMIT … ONE PHASE and vote read-only, so that no
 * read-only branch is ever left prepared (MariaDB rolls those back when the
 * session ends and then answers 1402). ROLLBACK ONLY (1399), XA_RB* and
 * deadlocks → XA ROLLBACK and vote no.
 */
export async function xaPrepare(conn: MysqlConnectionLike, xid: Xid, resource: string, opts: MysqlPrepareOptions = {}): Promise<Vote> {
  const lit = xidLiteral(xid, resource)
  const t = opts.timeoutMs
  if (opts.failure !== undefined) {
    await abandon(conn, xid, resource, false, t)
    return no(`a statement of the branch failed: ${opts.failure.message}`, opts.failure)
  }
  let readOnly = false
  let step = 'XA END'
  try {
    if (opts.baseline !== undefined) {
      const count = await writeCount(conn, t)
      opts.onWriteCount?.(count)
      readOnly = count === opts.baseline
    }
    await run(conn, `XA END ${lit}`, t)
    if (readOnly) {
      step = 'XA COMMIT ONE PHASE'
      await run(conn, `XA COMMIT ${lit} ONE PHASE`, t)
      return { vote: 'read-only' }
    }
    step = 'XA PREPARE'
    await run(conn, `XA PREPARE ${lit}`, t)
    return { vote: 'prepared' }
  } catch (err) {
    const e = classifyMysqlError(err, resource, `${step} ${xidToString(xid)}`)
    // 1399 says the branch is not ACTIVE, in a state named only in the message's text; 1397, that another XA
    // transaction is the connection's now. Ask the server instead, by rolling the branch back on its connection:
    // found by hostile testing, an application's own XA END + XA COMMIT … ONE PHASE on the enlisted connection
    // committed the branch and was reported as a plain "no" vote, so as a rollback of the whole transaction.
    const errno = errnoOf(e)
    if (step === 'XA END' && (errno === 1399 || errno === 1397) && (await xaRollbackOwn(conn, xid, resource, t).catch(() => 'done')) === 'already-done') {
      return {
        vote: 'no',
        reason: `the branch's XA transaction no longer exists on its connection: the application ended it itself (its own XA END and XA COMMIT or XA ROLLBACK), so its writes may be committed`,
        escaped: true,
      }
    }
    if (e.errorClass !== 'vote-no') throw e
    await abandon(conn, xid, resource, true, t)
    return no(e.message, e)
  }
}

/**
 * Rolls back a branch on its own connection (ACTIVE: XA END first).
 * 'already-done' only when the branch no longer exists there (XAER_NOTA, not
 * in XA RECOVER): the application ended it itself. A branch the server
 * rolled back (XA_RB*: a deadlock, a timeout) counts as rolled back here,
 * 'done', since nothing of it can have committed.
 */
export async function xaRollbackOwn(conn: MysqlConnectionLike, xid: Xid, resource: string, timeoutMs?: number): Promise<FinishOutcome> {
  const lit = xidLiteral(xid, resource)
  await quietly(conn, `XA END ${lit}`, timeoutMs) // IDLE or PREPARED answer 1399, which is fine
  try {
    await run(conn, `XA ROLLBACK ${lit}`, timeoutMs)
    return 'done'
  } catch (err) {
    const errno = errnoOf(classifyMysqlError(err, resource, `XA ROLLBACK ${xidToString(xid)}`))
    if (errno === 1402 || errno === 1613 || errno === 1614) return 'done'
    // XAER_OUTSIDE: the application's own transaction (or another XA) is open on the connection; ours is not there.
    if (errno === 1400 && !(await isListed(conn, xid, resource, timeoutMs).catch(() => true))) return 'already-done'
  }
  return xaFinish(conn, 'ROLLBACK', xid, resource, timeoutMs) // XAER_NOTA and the rest, judged as for any finish
}

/**
 * XA COMMIT / XA ROLLBACK of a prepared branch. 1397 (XAER_NOTA) is
 * 'already-done' only when XA RECOVER no longer lists the XID: on MariaDB a
 * branch attached to another live session answers 1397 too, so a listed one
 * is 'retryable'. 1402/1613/1614 (rolled back by the server): 'already-done'
 * for ROLLBACK; for COMMIT the truth is thrown (fatal, serverCode 1402…).
 */
export async function xaFinish(
  conn: MysqlConnectionLike,
  action: 'COMMIT' | 'ROLLBACK',
  xid: Xid,
  resource: string,
  timeoutMs?: number,
): Promise<FinishOutcome> {
  const lit = xidLiteral(xid, resource)
  try {
    await run(conn, `XA ${action} ${lit}`, timeoutMs)
    return 'done'
  } catch (err) {
    const e = classifyMysqlError(err, resource, `XA ${action} ${xidToString(xid)}`)
    const errno = errnoOf(e)
    if (errno === 1397) {
      if (await isListed(conn, xid, resource, timeoutMs)) {
        throw new AdapterError(
          'retryable',
          resource,
          `XA ${action} ${xidToString(xid)}: the branch is prepared but attached to another live session (XAER_NOTA while XA RECOVER lists it); retry when that session has ended`,
          { cause: err, serverCode: '1397' },
        )
      }
      return 'already-done'
    }
    if (errno === 1402 || errno === 1613 || errno === 1614) {
      if (action === 'ROLLBACK') return 'already-done'
      throw new AdapterError(
        'fatal',
        resource,
        `XA COMMIT ${xidToString(xid)}: the server had rolled the branch back (errno ${errno}). MariaDB does this only to a ` +
          'prepared branch that changed no row, when its session ends; no write of it is lost, but it was not committed',
        { cause: err, serverCode: String(errno) },
      )
    }
    throw e
  }
}
