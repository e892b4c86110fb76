// END, as every path that finished a decided transaction's phase 2 appends
// it: not waited for. END only lets the log forget the decision (losing it
// costs recovery a redundant, idempotent re-commit), and it waits for the
// next decision's write (server/log/end-wait.ts). Meanwhile endPending keeps
// the transaction in memory (known-transactions.ts), so recovery finds it
// there and does not drive it again.
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { Transaction } from './transaction.js'

/** `committed`: every branch committed (not a heuristic outcome): the END says so (EndRecord.committed). */
export function logEnd(ctx: { readonly log: DecisionLog; readonly logger: Logger }, tx: Transaction, committed: boolean): void {
  tx.endPending = true
  void ctx.log
    .appendEnd(tx.gtrid, { committed })
    .catch((error: unknown) => {
      ctx.logger.warn({ gtrid: tx.gtrid, err: String(error) }, 'END not logged: the next recovery pass logs it again')
    })
    .finally(() => (tx.endPending = false))
}
