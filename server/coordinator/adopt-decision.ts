// A logged COMMIT decision without END, taken over by recovery (after a
// restart, or when its phase 2 was cut short): rebuild the transaction from
// the log and commit every branch again. Commit is idempotent, so a branch
// that was already committed only answers "already done".
import { ARBITER_FORMAT_ID, xidFromParts } from '../../adapters/xid/xid.js'
import type { DecisionLog, LoggedTransaction } from '../log/decision-log.js'
import { heuristicReason, mixingResolution } from '../log/log-record.js'
import type { Logger } from '../logger.js'
import { inRootSpan } from '../tracing/spans.js'
import { finishById, type FinisherContext } from './branch-finisher.js'
import { resolvedState } from './operator-resolutions.js'
import { logEnd } from './log-end.js'
import type { CoordinatorObserver } from './observer.js'
import { Transaction, type LiveCounter } from './transaction.js'

/** The transaction as the log knows it: every decided branch prepared, unless an operator resolved it. */
export function transactionFromLog(logged: LoggedTransaction, live?: LiveCounter): { tx: Transaction; heuristic: boolean } {
  const tx = new Transaction(logged.gtrid, 0, {}, live)
  tx.adopted = true
  tx.state = 'COMMITTING'
  tx.commitPath = 'two-phase'
  for (const b of logged.decision?.branches ?? []) {
    const branch = tx.addBranch(b.resource, xidFromParts(ARBITER_FORMAT_ID, Buffer.from(logged.gtrid), Buffer.from(b.bqual, 'hex')), 'managed')
    branch.state = 'prepared'
    branch.preparedOn = b.on
    const resolution = logged.resolutions.findLast((r) => r.resource === b.resource && r.bqual === b.bqual)
    if (resolution) {
      // Recovery carries out the operator's resolution; phase 2 leaves the branch to it.
      branch.resolution = resolution.action
      branch.state = resolvedState(resolution.action)
    }
  }
  const mixing = mixingResolution(true, logged.resolutions)
  if (mixing) tx.abortReason = heuristicReason(mixing) // said once the transaction is HEURISTIC (finishAdopted)
  return { tx, heuristic: mixing !== undefined }
}

/** Phase 2 of an adopted transaction; END only once no branch is left prepared. */
export async function finishAdopted(
  ctx: FinisherContext & { readonly log: DecisionLog; readonly logger: Logger; readonly observer?: CoordinatorObserver | undefined },
  tx: Transaction,
  heuristic: boolean,
  trace?: string,
): Promise<void> {
  // A trace of its own (this runs after a restart or a takeover, not inside a request), linked to the one that decided.
  await inRootSpan('arbiter.recovery.finish_decided', { 'arbiter.gtrid': tx.gtrid }, async (span) => {
    await Promise.all(tx.branches.filter((b) => b.state === 'prepared').map((b) => finishById(ctx, tx.gtrid, b, 'commit')))
    const finished = !tx.branches.some((b) => b.state === 'prepared')
    span.setAttribute('arbiter.finished', finished)
    if (!finished) return // the decision stays open for recovery
    logEnd(ctx, tx) // not waited for (log-end.ts)
    // A branch committed only in part (a Redis key changed outside Arbiter) is heuristic here too (found by review).
    const partly = tx.branches.find((b) => b.partlyCommitted !== undefined)
    if (partly) tx.abortReason ??= `heuristic: branch on "${partly.resource}": ${partly.partlyCommitted}`
    // So is one an operator abandoned while this ran (its server gone): reflectResolution said why.
    const mixed = heuristic || partly !== undefined || tx.branches.some((b) => b.state === 'abandoned')
    tx.state = mixed ? 'HEURISTIC' : 'COMMITTED'
    tx.touch()
    ctx.logger.info({ gtrid: tx.gtrid, state: tx.state }, 'recovered transaction finished')
    ctx.observer?.finished(tx, mixed ? 'heuristic' : 'committed')
  }, [trace])
}
