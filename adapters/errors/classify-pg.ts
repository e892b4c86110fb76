// PostgreSQL (node-postgres) error classification by SQLSTATE
// (https://www.postgresql.org/docs/current/errcodes-appendix.html) and by
// pg's own connection errors. The driver error stays on `cause`.
import { AdapterError } from '../types.js'
import type { ErrorClass } from '../types.js'
import { adapterError, causeChain, messageOf, networkCode, prop, withContext } from './error-chain.js'

/** pg's client-side messages for a lost or unobtainable connection. */
const PG_CONNECTION_MESSAGES = [
  /Connection terminated/i,
  /timeout exceeded when trying to connect/i,
  /Client has encountered a connection error and is not queryable/i,
  /Client was closed and is not queryable/i,
  /Query read timeout/i,
  /Connection ended unexpectedly/i,
  /server closed the connection unexpectedly/i,
  /Cannot use a pool after calling end on the pool/i,
]

/** The class for one SQLSTATE (and its message, for the few codes that need it). */
export function pgSqlStateClass(sqlState: string, message: string): ErrorClass {
  switch (sqlState) {
    case '40001': // serialization_failure
    case '40P01': // deadlock_detected
    case '55P03': // lock_not_available (lock_timeout, NOWAIT)
    case '25P02': // in_failed_sql_transaction
    case '57014': // query_canceled (statement_timeout, cancel): the block is aborted
      return 'vote-no'
    case '42704': // undefined_object: unknown gid at COMMIT/ROLLBACK PREPARED
      return 'not-found'
    case '57P01': // admin_shutdown
    case '57P02': // crash_shutdown
    case '57P03': // cannot_connect_now (starting up, recovering)
    case '53300': // too_many_connections
    case '53200': // out_of_memory; also "no free prepared-transaction slot"
    case '53100': // disk_full
    case '58000': // system_error
    case '58030': // io_error
    case '40003': // statement_completion_unknown
      return 'retryable'
    case '55000': // object_not_in_prerequisite_state
      if (/prepared transactions are disabled/i.test(message)) return 'fatal'
      if (/is busy/i.test(message)) return 'retryable'
      return 'fatal'
    case '42501': // insufficient_privilege
    case '3D000': // invalid_catalog_name (database does not exist)
    case '0A000': // feature_not_supported
      // At PREPARE (temp tables, WITH HOLD cursors, LISTEN) the branch cannot
      // commit; "belongs to another database" at COMMIT PREPARED is misconfiguration.
      if (sqlState === '0A000' && !/another database/i.test(message)) return 'vote-no'
      return 'fatal'
  }
  const cls = sqlState.slice(0, 2)
  if (cls === '08') return 'retryable' // connection_exception
  if (cls === '28') return 'fatal' // invalid_authorization_specification
  // integrity (23), data exceptions (22), transaction rollback (40),
  // syntax/undefined objects (42): the branch's work cannot commit.
  if (cls === '23' || cls === '22' || cls === '40' || cls === '42' || cls === '21' || cls === '44') return 'vote-no'
  return 'fatal'
}

/**
 * Classifies anything node-postgres threw. An AdapterError passes through;
 * `context` (e.g. "COMMIT PREPARED") prefixes the message.
 */
export function classifyPgError(err: unknown, resource: string, context?: string): AdapterError {
  if (err instanceof AdapterError) return err
  const chain = causeChain(err)
  for (const e of chain) {
    const code = prop(e, 'code')
    // A DatabaseError carries a five-character SQLSTATE and a severity.
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && prop(e, 'severity') !== undefined) {
      const msg = messageOf(e)
      return adapterError(
        pgSqlStateClass(code, msg),
        resource,
        withContext(context, `${msg} (SQLSTATE ${code})`),
        err,
        code,
      )
    }
  }
  const net = networkCode(err)
  if (net !== undefined) {
    return adapterError('retryable', resource, withContext(context, `connection failed: ${messageOf(err)}`), err, net)
  }
  const msg = messageOf(err)
  if (PG_CONNECTION_MESSAGES.some((re) => re.test(msg))) {
    return adapterError('retryable', resource, withContext(context, `connection lost: ${msg}`), err)
  }
  return adapterError('fatal', resource, withContext(context, msg), err)
}
