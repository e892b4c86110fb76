// MySQL / MariaDB (mysql2) error classification by errno
// (https://mariadb.com/kb/en/mariadb-error-codes/, xa-semantics.md §2.4).
import { AdapterError } from '../types.js'
import type { ErrorClass } from '../types.js'
import { adapterError, causeChain, messageOf, networkCode, prop, withContext } from './error-chain.js'

const VOTE_NO = new Set([
  1213, // ER_LOCK_DEADLOCK
  1205, // ER_LOCK_WAIT_TIMEOUT
  1062, // ER_DUP_ENTRY
  1451, // ER_ROW_IS_REFERENCED_2
  1452, // ER_NO_REFERENCED_ROW_2
  1216, // ER_NO_REFERENCED_ROW
  1217, // ER_ROW_IS_REFERENCED
  1048, // ER_BAD_NULL_ERROR
  1264, // ER_WARN_DATA_OUT_OF_RANGE
  1265, // WARN_DATA_TRUNCATED
  1406, // ER_DATA_TOO_LONG
  1366, // ER_TRUNCATED_WRONG_VALUE_FOR_FIELD
  3819, // ER_CHECK_CONSTRAINT_VIOLATED (MySQL)
  4025, // ER_CONSTRAINT_FAILED (MariaDB CHECK)
  1402, // XA_RBROLLBACK
  1613, // XA_RBTIMEOUT
  1614, // XA_RBDEADLOCK
  1180, // ER_ERROR_DURING_COMMIT
  1637, // ER_TOO_MANY_CONCURRENT_TRXS
  3572, // ER_LOCK_NOWAIT
  1969, // ER_STATEMENT_TIMEOUT (MariaDB max_statement_time)
  3024, // ER_QUERY_TIMEOUT (MySQL max_execution_time)
])

const RETRYABLE = new Set([
  2002, // CR_CONNECTION_ERROR
  2003, // CR_CONN_HOST_ERROR
  2006, // CR_SERVER_GONE_ERROR
  2013, // CR_SERVER_LOST
  1040, // ER_CON_COUNT_ERROR
  1053, // ER_SERVER_SHUTDOWN
  1077, // ER_NORMAL_SHUTDOWN
  1079, // ER_SHUTDOWN_COMPLETE
  1152, // ER_ABORTING_CONNECTION
  1158, 1159, 1160, 1161, // network read/write errors
  1317, // ER_QUERY_INTERRUPTED
  1927, // ER_CONNECTION_KILLED (MariaDB)
  4031, // ER_CLIENT_INTERACTION_TIMEOUT (MySQL)
  1401, // XAER_RMERR: outcome uncertain, resolve through recovery
])

const FATAL = new Set([
  1045, // ER_ACCESS_DENIED_ERROR
  1044, // ER_DBACCESS_DENIED_ERROR
  1142, // ER_TABLEACCESS_DENIED_ERROR
  1143, // ER_COLUMNACCESS_DENIED_ERROR
  1227, // ER_SPECIFIC_ACCESS_DENIED_ERROR (e.g. XA_RECOVER_ADMIN on MySQL 8)
  1049, // ER_BAD_DB_ERROR
  1398, // XAER_INVAL
  1400, // XAER_OUTSIDE
  1440, // XAER_DUPID
  1286, // ER_UNKNOWN_STORAGE_ENGINE
])

const PROTOCOL_CODES = new Set([
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'PROTOCOL_ENQUEUE_AFTER_FATAL_ERROR',
  'PROTOCOL_ENQUEUE_AFTER_QUIT',
  'PROTOCOL_ENQUEUE_HANDSHAKE_TWICE',
])

/** The class for one MySQL errno (and its message, for 1399). */
export function mysqlErrnoClass(errno: number, message: string, sqlState?: string): ErrorClass {
  if (errno === 1397) return 'not-found' // XAER_NOTA
  if (errno === 1399) {
    // XAER_RMFAIL: "... in the ROLLBACK ONLY state" after a deadlock or a
    // rolled-back lock wait; any other state is a state-machine error.
    return /ROLLBACK ONLY/i.test(message) ? 'vote-no' : 'fatal'
  }
  if (VOTE_NO.has(errno)) return 'vote-no'
  if (RETRYABLE.has(errno)) return 'retryable'
  if (FATAL.has(errno)) return 'fatal'
  const cls = sqlState?.slice(0, 2)
  if (cls === '08') return 'retryable'
  if (cls === '28') return 'fatal'
  if (cls === '23' || cls === '22' || cls === '40' || cls === '42' || cls === '21') return 'vote-no'
  return 'fatal'
}

/** Classifies anything mysql2 threw. An AdapterError passes through. */
export function classifyMysqlError(err: unknown, resource: string, context?: string): AdapterError {
  if (err instanceof AdapterError) return err
  const chain = causeChain(err)
  for (const e of chain) {
    const errno = prop(e, 'errno')
    const sqlState = prop(e, 'sqlState')
    const code = prop(e, 'code')
    if (typeof errno === 'number' && errno >= 1000 && errno < 5000 && typeof sqlState === 'string') {
      const msg = messageOf(e)
      const cls = prop(e, 'fatal') === true && errno >= 2000 ? 'retryable' : mysqlErrnoClass(errno, msg, sqlState)
      return adapterError(cls, resource, withContext(context, `${msg} (errno ${errno})`), err, String(errno))
    }
    if (typeof errno === 'number' && RETRYABLE.has(errno)) {
      return adapterError('retryable', resource, withContext(context, `connection lost: ${messageOf(e)}`), err, String(errno))
    }
    if (typeof code === 'string' && PROTOCOL_CODES.has(code)) {
      return adapterError('retryable', resource, withContext(context, `connection lost: ${messageOf(e)}`), err, code)
    }
  }
  const net = networkCode(err)
  if (net !== undefined) {
    return adapterError('retryable', resource, withContext(context, `connection failed: ${messageOf(err)}`), err, net)
  }
  // mysql2 marks errors after which the connection is unusable as fatal.
  if (chain.some((e) => prop(e, 'fatal') === true)) {
    return adapterError('retryable', resource, withContext(context, `connection lost: ${messageOf(err)}`), err)
  }
  const msg = messageOf(err)
  if (/Pool is closed|connect ETIMEDOUT|Connection lost|closed state|timed out waiting/i.test(msg)) {
    return adapterError('retryable', resource, withContext(context, msg), err)
  }
  return adapterError('fatal', resource, withContext(context, msg), err)
}
