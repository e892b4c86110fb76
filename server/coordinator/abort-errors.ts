// The errors a Commit or a statement answers when its transaction rolled
// back (split from commit-protocol.ts).
import { TmError } from '../../proto/errors.js'
import type { AbortCause } from './rollback-protocol.js'
import type { Transaction } from './transaction.js'

export function abortedError(tx: Transaction): TmError {
  if (tx.escaped !== undefined) {
    return new TmError(
      'TM_HEURISTIC_MIXED',
      `transaction ${tx.gtrid} has a mixed outcome: ${tx.escaped}; its other branches were rolled back. Do not retry: an operator must check that branch's writes`,
      { metadata: { gtrid: tx.gtrid } },
    )
  }
  return new TmError('TM_TX_ABORTED', `transaction ${tx.gtrid} rolled back: ${tx.abortReason ?? 'rolled back'}`, {
    metadata: {
      gtrid: tx.gtrid,
      retryable: String(tx.abortRetryable),
      ...(tx.abortServerCode && { serverCode: tx.abortServerCode }),
    },
  })
}

/** The error for a statement that failed while a Commit was preparing: that Commit rolls the transaction back. */
export function doomedError(gtrid: string, cause: AbortCause): TmError {
  return new TmError('TM_TX_ABORTED', `transaction ${gtrid} rolled back: ${cause.reason} (the Commit in progress rolls it back)`, {
    metadata: { gtrid, retryable: String(cause.retryable ?? false), ...(cause.serverCode && { serverCode: cause.serverCode }) },
  })
}

/** Server codes for which retrying the whole transaction may well succeed. */
export function isTransient(serverCode: string | undefined): boolean {
  return serverCode !== undefined && ['40001', '40P01', '55P03', '1213', '1205', '1614', '1613'].includes(serverCode)
}
