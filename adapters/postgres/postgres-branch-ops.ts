// The branch steps shared by managed sessions (PostgresBranchSession) and the
// application's own connections (postgresLocalBranch). xa-semantics.md §1.
import type { PgFieldLike } from './postgres-values.js'
import { classifyPgError } from '../errors/classify-pg.js'
import { AdapterError } from '../types.js'
import type { FinishOutcome, Vote, Xid } from '../types.js'
import { xidToPgGid } from '../xid/xid.js'

export interface PgResultLike {
  command: string
  rowCount: number | null
  rows: unknown[]
  fields?: PgFieldLike[]
}

export interface PgQueryConfigLike {
  text: string
  values?: unknown[]
  rowMode?: 'array'
  /** Client-side bound for the reply (pg's query_timeout). */
  query_timeout?: number
}

/** The part of a pg Client / PoolClient the branch steps use. */
export interface PgClientLike {
  query(config: string | PgQueryConfigLike): Promise<PgResultLike>
  /** 'I' idle, 'T' in a block, 'E' in an aborted block (pg ≥ 8.11). */
  getTransactionStatus?(): string | null
  escapeLiteral?(str: string): string
}

/**
 * A control statement (no parameters, no row mode). Sent as a bare string
 * when there is no timeout: pg copies a config object into every query.
 */
function control(client: PgClientLike, text: string, timeoutMs: number | undefined): Promise<PgResultLike> {
  return client.query(timeoutMs === undefined ? text : { text, query_timeout: timeoutMs })
}

/** Quotes a string literal the way pg's escapeLiteral does. */
export function quoteLiteral(client: PgClientLike, s: string): string {
  if (client.escapeLiteral !== undefined) return client.escapeLiteral(s)
  const body = s.replace(/'/g, "''")
  return s.includes('\\') ? ` E'${body.replace(/\\/g, '\\\\')}'` : `'${body}'`
}

export function txStatus(client: PgClientLike): string | undefined {
  return client.getTransactionStatus?.() ?? undefined
}

/** The gid of an XID; an illegal XID is a fatal AdapterError. */
export function gidOf(xid: Xid, resource: string): string {
  try {
    return xidToPgGid(xid)
  } catch (err) {
    throw new AdapterError('fatal', resource, `illegal XID: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
  }
}

function no(reason: string, error?: AdapterError): Vote {
  return error === undefined ? { vote: 'no', reason } : { vote: 'no', reason, error }
}

/** PostgreSQL answers PREPARE in an aborted block with another tag and no error: the block was rolled back. */
function notPrepared(answered: string): Vote {
  return no(`the server did not prepare the branch (it answered ${answered}): the transaction was rolled back`)
}

async function rollbackQuietly(client: PgClientLike, timeoutMs?: number): Promise<void> {
  try {
    await control(client, 'ROLLBACK', timeoutMs)
  } catch {
    // The caller destroys a client it could not clean.
  }
}

export interface PrepareOptions {
  /** An earlier statement of the branch failed: never vote yes. */
  readonly failure?: AdapterError
  /** The read-only probe; `pg_current_xact_id_if_assigned()` needs PostgreSQL 13. */
  readonly xactIdFunction?: string
  /**
   * Ask whether the branch wrote (default true); false prepares it either
   * way. The probe rides with PREPARE TRANSACTION, one round trip; a branch
   * that turns out read-only is then committed with COMMIT PREPARED right
   * away and votes read-only. Never a plain COMMIT: that would deliver a
   * NOTIFY of a branch that wrote nothing even if its transaction then rolls
   * back, where PREPARE refuses a NOTIFY (found by hostile testing), and it
   * would skip the serializable checks PREPARE makes.
   */
  readonly probeReadOnly?: boolean
  /**
   * Prepare as the session's login role (SET LOCAL ROLE NONE in the same
   * round trip): PostgreSQL lets only the role that prepared a transaction,
   * or a superuser, finish it, and a statement may have switched roles
   * (set_config('role', …, true) is a function call no text check sees). The
   * TM's own sessions do this, so the TM can always finish its branches.
   */
  readonly asLoginRole?: boolean
  /**
   * The branch's block carries this mark (markBlock at its BEGIN): a block
   * without it is not the branch's, since the application ended the branch's
   * own (COMMIT or ROLLBACK) and began another. Checked in the PREPARE's
   * round trip; a missing mark votes no, escaped, and prepares nothing.
   */
  readonly marked?: BlockMark
  readonly timeoutMs?: number
}

/** What goes before PREPARE TRANSACTION in the same simple query. */
function preamble(opts: PrepareOptions): string {
  return opts.asLoginRole === true ? 'SET LOCAL ROLE NONE; ' : ''
}

/**
 * The setting that marks a branch's own block. SET LOCAL ends with the block,
 * so a block the application began after ending the branch's has not got it.
 * A custom setting any role may set.
 */
const MARK = 'arbiter.branch'

/**
 * What tells the branch's block from any other on its connection: its mark
 * (the gid), and when the block began (transaction_timestamp in whole
 * microseconds since the epoch, BLOCK_STARTED). The start time is the
 * fallback for a block that lost its mark to the application's RESET ALL
 * (or SET arbiter.branch): that block is still the branch's (found by
 * hostile testing: it was told a mixed outcome, "do not retry", when all
 * had rolled back). A block begun after the branch's ended began later.
 */
export interface BlockMark {
  readonly gid: string
  /** BLOCK_STARTED as read at BEGIN (digits), when known. */
  readonly startedUs?: string
}

/**
 * When the current block began, in whole microseconds, as exact digits under
 * any TimeZone or DateStyle the application's session may set (the same
 * arithmetic each time, so equal for the same block on any server version).
 */
const BLOCK_STARTED = '(extract(epoch from transaction_timestamp()) * 1000000)::bigint'

/**
 * The server and database a connection is on, as a resource's identity (ResourceAdapter.identity) spells them:
 * PostgreSQL's system identifier (a promoted standby keeps it; another server with a database of the same name has
 * another) and the database. Undefined where the role may not call pg_control_system() (PostgreSQL checks that when
 * the query starts, whatever a CASE around it says: found by review, so this is a statement of its own, never
 * part of a branch's block, which its failure would abort).
 */
export async function readPgIdentity(c: PgClientLike, timeoutMs?: number): Promise<string | undefined> {
  const row = await c
    .query({ text: 'SELECT system_identifier::text AS id, current_database() AS db FROM pg_control_system()', ...(timeoutMs !== undefined && { query_timeout: timeoutMs }) })
    .then((r) => r.rows[0] as { id: string; db: string } | undefined, () => undefined)
  return row === undefined ? undefined : `postgres:${row.id}/${row.db}`
}

/** BEGIN, the mark of the branch's block, and when it began (AS started), in one simple query. */
export function beginMarked(client: PgClientLike, gid: string): string {
  return `BEGIN; SET LOCAL ${MARK} = ${quoteLiteral(client, gid)}; SELECT ${BLOCK_STARTED}::text AS started`
}

/** The start time beginMarked's answer read (the last result's `started`), or undefined. */
export function startedOf(answer: unknown): string | undefined {
  const started = (lastOf(answer)?.rows?.[0] as { started?: unknown } | undefined)?.started
  return typeof started === 'string' && /^-?\d+$/.test(started) ? started : undefined
}

/** Whether the current block is the branch's (AS mine): it carries the mark, or began when the branch's did. */
export function markQuery(client: PgClientLike, mark: BlockMark): string {
  return `SELECT ${isMarked(client, mark)} AS mine`
}

/** The SQL condition: the current block is the branch's. */
function isMarked(client: PgClientLike, mark: BlockMark): string {
  const byMark = `current_setting('${MARK}', true) IS NOT DISTINCT FROM ${quoteLiteral(client, mark.gid)}`
  return mark.startedUs === undefined ? `(${byMark})` : `(${byMark} OR ${BLOCK_STARTED} = ${mark.startedUs})`
}

/** In the error of a failed markCheck, and nowhere else: no statement or trigger of the application's says it. */
const UNMARKED = 'arbiter: this block lost the branch mark'

/**
 * A SELECT column that fails (22P02, its text carrying UNMARKED) unless the
 * block carries the mark: it stops the PREPARE behind it in the same simple
 * query. Not constant, so the planner cannot fold it into an error up front.
 * (A division by zero was told from a deferred trigger's by its code alone:
 * found by review.)
 */
function markCheck(client: PgClientLike, mark: BlockMark): string {
  return `CASE WHEN ${isMarked(client, mark)} THEN 1 ELSE ('${UNMARKED} ' || coalesce(current_setting('${MARK}', true), ''))::int END AS marked`
}

/**
 * The vote of a branch whose block the application ended (it lost its mark, or the server said the connection
 * went idle since the branch began): whatever block is open now is rolled back.
 */
export async function unmarked(client: PgClientLike, opts: Pick<PrepareOptions, 'timeoutMs'> = {}): Promise<Vote> {
  if (txStatus(client) !== 'I') await rollbackQuietly(client, opts.timeoutMs)
  return {
    vote: 'no',
    reason: "the branch's transaction block was ended by the application (COMMIT or ROLLBACK on its connection), perhaps with a block of its own begun since: nothing was prepared",
    escaped: true,
  }
}

/** A failure of markCheck's own (the server's code, and its sentinel in the message). */
function isUnmarked(error: AdapterError, opts: PrepareOptions): boolean {
  return opts.marked !== undefined && error.serverCode === '22P02' && error.message.includes(UNMARKED)
}

/** The last result of a simple query (several statements answer an array). */
function lastOf(answer: unknown): PgResultLike {
  return (Array.isArray(answer) ? answer[answer.length - 1] : answer) as PgResultLike
}

/**
 * Ends the branch open on `client`: COMMIT and vote read-only when it never got
 * a transaction id, else PREPARE TRANSACTION, verified by the command tag
 * (PostgreSQL answers ROLLBACK without an error in an aborted block).
 */
export async function pgPrepare(client: PgClientLike, xid: Xid, resource: string, opts: PrepareOptions = {}): Promise<Vote> {
  const gid = gidOf(xid, resource)
  const status = txStatus(client)
  if (opts.failure !== undefined) {
    await rollbackQuietly(client, opts.timeoutMs)
    return no(`a statement of the branch failed: ${opts.failure.message}`, opts.failure)
  }
  if (status === 'E') {
    await rollbackQuietly(client, opts.timeoutMs)
    return no('the branch transaction was aborted by an earlier error')
  }
  if (status === 'I') {
    return { vote: 'no', reason: 'the branch is not in a transaction block (it was ended by a statement, or never began)', escaped: true }
  }
  if (opts.probeReadOnly !== false) return probeAndPrepare(client, xid, resource, opts)
  let result: PgResultLike
  try {
    const check = opts.marked === undefined ? '' : `SELECT ${markCheck(client, opts.marked)}; `
    result = lastOf(await control(client, `${check}${preamble(opts)}PREPARE TRANSACTION ${quoteLiteral(client, gid)}`, opts.timeoutMs))
  } catch (err) {
    // A failed PREPARE rolls the transaction back. pg may reject before it has
    // read the ReadyForQuery that says so (status still 'T'): a ROLLBACK,
    // queued behind it, returns only once the session is idle for certain.
    const e = classifyPgError(err, resource, `PREPARE TRANSACTION ${gid}`)
    if (isUnmarked(e, opts)) return unmarked(client, opts)
    if (e.errorClass !== 'vote-no') throw e
    if (txStatus(client) !== 'I') await rollbackQuietly(client, opts.timeoutMs)
    return no(e.message, e)
  }
  if (result.command === 'PREPARE') return { vote: 'prepared' }
  return notPrepared(result.command)
}

/** pgPrepare with the read-only probe (PrepareOptions.probeReadOnly), in one round trip; the block is known to be open and healthy. */
async function probeAndPrepare(client: PgClientLike, xid: Xid, resource: string, opts: PrepareOptions): Promise<Vote> {
  const gid = gidOf(xid, resource)
  const fn = opts.xactIdFunction ?? 'pg_current_xact_id_if_assigned'
  let results: PgResultLike[]
  try {
    // A simple query with two statements: a failing SELECT skips the PREPARE
    // and leaves the block aborted; a failing PREPARE rolls the block back.
    const check = opts.marked === undefined ? '' : `, ${markCheck(client, opts.marked)}`
    const answer: unknown = await control(client, `SELECT ${fn}() IS NULL AS ro${check}; ${preamble(opts)}PREPARE TRANSACTION ${quoteLiteral(client, gid)}`, opts.timeoutMs)
    results = Array.isArray(answer) ? (answer as PgResultLike[]) : [answer as PgResultLike]
    // The probe first, PREPARE last; a SET in between answers nothing we need.
    if (opts.asLoginRole === true && results.length === 3) results = [results[0]!, results[2]!]
  } catch (err) {
    const e = classifyPgError(err, resource, `PREPARE TRANSACTION ${gid}`)
    if (isUnmarked(e, opts)) return unmarked(client, opts)
    if (e.errorClass !== 'vote-no') throw e
    if (txStatus(client) !== 'I') await rollbackQuietly(client, opts.timeoutMs)
    return no(e.message, e)
  }
  const prepare = results[1]
  if (results.length !== 2 || prepare?.command !== 'PREPARE') {
    return notPrepared(prepare?.command ?? 'nothing')
  }
  const readOnly = (results[0]!.rows[0] as { ro?: unknown } | undefined)?.ro === true
  if (!readOnly) return { vote: 'prepared' }
  try {
    await pgFinishPrepared(client, 'COMMIT', xid, resource, opts.timeoutMs)
    return { vote: 'read-only' }
  } catch {
    return { vote: 'prepared' } // still prepared: phase 2 commits it like any other
  }
}

/** True when `gid` is prepared in this database now. */
export async function isPrepared(client: PgClientLike, gid: string, resource: string, timeoutMs?: number): Promise<boolean> {
  try {
    const r = await client.query({
      text: 'SELECT 1 FROM pg_prepared_xacts WHERE gid = $1 AND database = current_database()',
      values: [gid],
      ...(timeoutMs === undefined ? {} : { query_timeout: timeoutMs }),
    })
    return r.rows.length > 0
  } catch (err) {
    throw classifyPgError(err, resource, 'read pg_prepared_xacts')
  }
}

/**
 * COMMIT PREPARED / ROLLBACK PREPARED. 42704 (unknown gid) is 'already-done'
 * only when pg_prepared_xacts does not list the gid; 55000 "is busy" (another
 * session is finishing it) is retryable.
 */
export async function pgFinishPrepared(
  client: PgClientLike,
  action: 'COMMIT' | 'ROLLBACK',
  xid: Xid,
  resource: string,
  timeoutMs?: number,
): Promise<FinishOutcome> {
  const gid = gidOf(xid, resource)
  try {
    await control(client, `${action} PREPARED ${quoteLiteral(client, gid)}`, timeoutMs)
    return 'done'
  } catch (err) {
    const e = classifyPgError(err, resource, `${action} PREPARED ${gid}`)
    if (e.errorClass !== 'not-found') throw e
    if (await isPrepared(client, gid, resource, timeoutMs)) {
      throw new AdapterError('retryable', resource, `${action} PREPARED ${gid}: unknown gid but still listed as prepared`, {
        cause: err,
        serverCode: e.serverCode ?? '42704',
      })
    }
    return 'already-done'
  }
}

/** ROLLBACK of an open (unprepared) block, verified. */
export async function pgRollbackOpen(client: PgClientLike, resource: string, timeoutMs?: number): Promise<FinishOutcome> {
  try {
    await control(client, 'ROLLBACK', timeoutMs)
    return 'done'
  } catch (err) {
    throw classifyPgError(err, resource, 'ROLLBACK')
  }
}
