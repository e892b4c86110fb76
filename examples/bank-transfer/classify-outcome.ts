// What a failed transfer turned out to be, for the demo's summary. Lock
// conflicts are expected under concurrent transfers and are safe to retry:
// a deadlock or lock-wait timeout reported by the TM (a TransactionAbortedError)
// and one the application's own connection reports (local branches: the
// driver's error, rethrown as is after the rollback) count alike.
import { OutcomeUnknownError, TransactionAbortedError, TransactionNotFoundError } from '../../client/index.js'
import { InsufficientFundsError } from './accounts.js'
import type { Outcome } from './bank-check.js'

/** Driver codes of lock conflicts: MariaDB/MySQL (mysql2 `code`) and PostgreSQL SQLSTATEs (pg `code`). */
const LOCK_CONFLICT_CODES = new Set([
  'ER_LOCK_WAIT_TIMEOUT', // 1205
  'ER_LOCK_DEADLOCK', // 1213
  '40P01', // deadlock_detected
  '40001', // serialization_failure
  '55P03', // lock_not_available
])

function isDriverLockConflict(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' && LOCK_CONFLICT_CODES.has(code)
}

export function classifyOutcome(error: unknown): Outcome {
  if (error instanceof InsufficientFundsError) return 'aborted:insufficient funds'
  if (error instanceof OutcomeUnknownError) return 'unknown'
  // The TM restarted under the transaction before its decision: presumed aborted.
  if (error instanceof TransactionNotFoundError) return 'aborted:TM restarted before the decision'
  if (isDriverLockConflict(error)) return 'aborted:lock conflict'
  if (error instanceof TransactionAbortedError) {
    if (/deadline/.test(error.message)) return 'aborted:deadline'
    if (/lock|deadlock|serializ/i.test(error.message)) return 'aborted:lock conflict'
    if (/shutting down|unavailable|connection/i.test(error.message)) return 'aborted:TM or database unavailable'
    return `aborted:${error.message.slice(0, 60)}`
  }
  return `aborted:unexpected ${error instanceof Error ? error.name : 'error'}: ${String(error).slice(0, 80)}`
}
