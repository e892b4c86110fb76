// END, as every path that finished a decided transaction's phase 2 appends
// it: not waited for. END only lets the log forget the decision (losing it
// costs recovery a redundant, idempotent re-commit), and it waits for the
// next decision's write (server/log/end-wait.ts). Meanwhile endPending keeps
// the transaction in memory (known-transactions.ts), so recovery finds it
// there and does not drive it again.
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { Transaction } from './transaction.js'

export function logEnd(ctx: { readonly log: DecisionLog; readonly logger: Logger }, tx: Transaction): void {
  tx.endPending = true
  // Every branch committed (none rolled back by an operator, none committed in part: its record was forced by
  // finishedInPart, branch-finisher.ts): the END says so (EndRecord.committed).
  const committed = tx.branches.every((b) => (b.state === 'committed' && b.partlyCommitted === undefined) || b.state === 'read-only')
  void ctx.log
    .appendEnd(tx.gtrid, { committed })
    .catch((error: unknown) => {
      ctx.logger.warn({ gtrid: tx.gtrid, err: String(error) }, 'END not logged: the next recovery pass logs it again')
    })
    .finally(() => (tx.endPending = false))
}
