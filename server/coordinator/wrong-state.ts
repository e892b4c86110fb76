// The answer to a request that finds its transaction in a state that does
// not allow it. A transaction rolling back or rolled back answers ABORTED (the
// caller may retry the whole transaction) and notes that its caller has heard
// it, which a drain waits for; any other state is FAILED_PRECONDITION.
import { TmError } from '../../proto/errors.js'
import { abortedError } from './abort-errors.js'
import type { Transaction } from './transaction.js'

/** The error for a request that cannot `what` the transaction in its state. */
export function stateError(tx: Transaction, what: string): TmError {
  if (tx.state === 'ROLLING_BACK' || tx.state === 'ROLLED_BACK') return toldRolledBack(tx)
  return new TmError('TM_ILLEGAL_STATE', `cannot ${what} transaction ${tx.gtrid}: it is ${tx.state}`)
}

/** The answer that tells a caller its transaction rolled back (a drain waits until its callers have heard it). */
export function toldRolledBack(tx: Transaction): TmError {
  tx.callerToldRolledBack = true
  return abortedError(tx)
}
