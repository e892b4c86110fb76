// END, as every path that finished a decided transaction's phase 2 appends
// it: not waited for. END only lets the log forget the decision (losing it
// costs recovery a redundant, idempotent re-commit), and it waits for the
// next decision's write (server/log/end-wait.ts). Meanwhile endPending keeps
// the transaction in memory (known-transactions.ts), so recovery finds it
// there and does not drive it again.
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { Transaction } from './transaction.js'

/** Who a heuristic resolution the TM logs itself names as its author (ResolutionRecord.operator). */
export const TM_AS_OPERATOR = 'arbiter (phase 2)'

export function logEnd(ctx: { readonly log: DecisionLog; readonly logger: Logger }, tx: Transaction): void {
  tx.endPending = true
  const partly = tx.branches.filter((b) => b.partlyCommitted !== undefined)
  // Every branch committed (none rolled back by an operator, none committed in part): the END says so (EndRecord.committed).
  const committed = partly.length === 0 && tx.branches.every((b) => b.state === 'committed' || b.state === 'read-only')
  void (async () => {
    // A branch committed in part is a heuristic outcome the log must keep, forced before END: without it, after a
    // restart the decision and END read COMMITTED (found by hostile testing). Recovery never drives it again (the
    // resolution says committed), and the record stays as the audit trail, as an operator's heuristic one does.
    for (const b of partly) {
      await ctx.log.appendResolution({
        gtrid: tx.gtrid,
        resource: b.resource,
        bqual: b.xid.bqual.toString('hex'),
        action: 'commit',
        operator: TM_AS_OPERATOR,
        reason: `committed in part: ${b.partlyCommitted}`,
        heuristic: true,
        inPart: true,
      })
    }
    await ctx.log.appendEnd(tx.gtrid, { committed })
  })()
    .catch((error: unknown) => {
      ctx.logger.warn({ gtrid: tx.gtrid, err: String(error) }, 'END not logged: the next recovery pass logs it again')
    })
    .finally(() => (tx.endPending = false))
}
