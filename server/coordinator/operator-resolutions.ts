// An operator's resolution of a branch by hand (Admin.ResolveBranch), as the
// transaction in memory reflects it. The resolution is logged first (by the
// admin service); here phase 2 or cleanup learns to stop retrying against it,
// and a resolution that contradicted the decision makes the transaction
// HEURISTIC for good. Split from coordinator.ts.
import type { FinishOutcome } from '../../adapters/types.js'
import type { LoggedTransaction } from '../log/decision-log.js'
import type { CoordinatorObserver } from './observer.js'
import type { Branch, Transaction } from './transaction.js'

export type ResolutionAction = 'commit' | 'rollback' | 'abandon'

/** The branch's state once a resolution was carried out. */
export function resolvedState(action: ResolutionAction): 'committed' | 'rolled-back' | 'abandoned' {
  return action === 'commit' ? 'committed' : action === 'rollback' ? 'rolled-back' : 'abandoned'
}

export interface ResolutionOutcome {
  /**
   * What the resource answered: 'done' (this call changed the branch),
   * 'already-done' (finished already: phase 2 may have finished it the other
   * way first), undefined when the call failed (recovery carries it out).
   */
  readonly finished: FinishOutcome | undefined
  /** It went against the transaction's decision. */
  readonly heuristic: boolean
  readonly operator: string
  readonly reason: string
}

/** The resolution is logged and about to be carried out: phase 2 (or cleanup) of the branch stops retrying against it. */
export function markBranchResolving(tx: Transaction | undefined, resource: string, bqual: Buffer, action: ResolutionAction): void {
  const branch = resolvedBranch(tx, resource, bqual)
  if (!branch) return
  branch.resolution = action
  branch.resolved?.() // an earlier resolution's waiters
  branch.resolving = new Promise<void>((resolve) => (branch.resolved = resolve))
}

/**
 * The resolution was carried out (or tried): the branch's state once done,
 * and HEURISTIC for good when it contradicted the decision, also after a
 * phase 2 still running finishes (it would otherwise say COMMITTED).
 * Answers 'overtaken' for a forced rollback that found the branch committed
 * by phase 2 first: the outcome is whole, and the log must say so too.
 */
export function reflectResolution(
  tx: Transaction,
  resource: string,
  bqual: Buffer,
  action: ResolutionAction,
  outcome: ResolutionOutcome,
  observer: CoordinatorObserver | undefined,
): 'overtaken' | undefined {
  const branch = resolvedBranch(tx, resource, bqual)
  if (branch) branch.resolution = action
  // "Already done" on a branch phase 2 gave way to (still prepared here): finished, the operator's way.
  if (branch && (outcome.finished === 'done' || (outcome.finished === 'already-done' && branch.state === 'prepared'))) branch.state = resolvedState(action)
  branch?.resolved?.()
  if (!outcome.heuristic) return undefined
  const done = action === 'abandon' ? 'abandoned (its server gone; not known to have committed)' : `resolved to ${action}`
  const what = `branch on "${resource}" ${done} by ${outcome.operator}: ${outcome.reason}`
  if (tx.state === 'ACTIVE' || tx.state === 'PREPARING') {
    // No decision yet: the Commit under way (or to come) settles the outcome, and must say what the operator
    // did. A rolled-back branch dooms the transaction: it rolls back whole, not retryable (the operator meant
    // it). A committed one (or one recovery will commit: the resolution is logged) makes any rollback from
    // now on a mixed outcome: Do not retry. Should the decision already be on its way, phase 2 ends
    // HEURISTIC over a branch resolved to roll back (commit-protocol.ts).
    if (action === 'rollback') tx.doomed ??= { reason: `its ${what}`, retryable: false }
    else tx.escaped ??= `the ${what}`
    tx.touch()
    return undefined // counted as heuristic once the outcome is known (commit-protocol.ts, commit-requests.ts)
  }
  // A rollback that found the branch already finished: phase 2 committed it first, and the outcome is whole.
  if (action === 'rollback' && outcome.finished === 'already-done' && branch?.state === 'committed') return 'overtaken'
  observer?.heuristic(tx)
  const makeHeuristic = (): void => {
    tx.state = 'HEURISTIC'
    tx.abortReason = `heuristic: ${what}`
    tx.touch()
  }
  makeHeuristic()
  void tx.phaseTwoDone?.then(makeHeuristic, makeHeuristic)
  return undefined
}

/**
 * reflectResolution's 'overtaken' for a transaction no longer in memory (forgotten after its retention while the
 * operator's call ran): a forced rollback that found the branch already finished, of a transaction the log says
 * was decided COMMIT and ended (phase 2 finished every branch), with no earlier rollback of that branch logged,
 * found it committed. Found by hostile testing under load: the log kept the rollback as the branch's last word,
 * and every view said HEURISTIC for a transaction that committed whole.
 */
export function overtakenPerLog(logged: LoggedTransaction | undefined, resource: string, bqual: Buffer, action: ResolutionAction, outcome: ResolutionOutcome): 'overtaken' | undefined {
  if (action !== 'rollback' || outcome.finished !== 'already-done' || !logged?.decision || !logged.ended) return undefined
  const hex = bqual.toString('hex')
  const rollbacks = logged.resolutions.filter((r) => r.resource === resource && r.bqual === hex && r.action === 'rollback')
  return rollbacks.length <= 1 ? 'overtaken' : undefined // the one this call logged; an earlier one may have rolled it back
}

function resolvedBranch(tx: Transaction | undefined, resource: string, bqual: Buffer): Branch | undefined {
  return tx?.branches.find((b) => b.resource === resource && b.xid.bqual.equals(bqual))
}
