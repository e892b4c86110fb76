// A graceful stop's drain (SIGTERM), once no new transaction may begin:
// transactions already ACTIVE get half the grace to commit or roll back on
// their own; the rest are then rolled back (their callers' next request
// answers ABORTED, retryable); Commits in flight run to their outcome until
// the grace ends, and the callers of the drained transactions get a moment to
// ask and hear ABORTED; past the grace, Commits not yet decided roll back at
// their decision and those under way get a last moment. Split from coordinator.ts: the steps and their waits
// are their own concern; the coordinator only stops accepting and calls this.
import type { AbortCause } from './rollback-protocol.js'
import type { Transaction } from './transaction.js'

/** Why a Commit not yet decided when the grace ends is rolled back. */
const GRACE_ENDED = 'the TM is shutting down: its grace ended before the transaction was decided'

/** How long a drain waits, after rolling back the transactions still active, for their callers to ask and hear it. */
const DRAINED_CALLER_WAIT_MS = 1000

export interface Drainable {
  /** The transactions held in memory now. */
  list(): Transaction[]
  /** Rolls a transaction back as the coordinator does (its hooks and metrics told). */
  abort(tx: Transaction, cause: AbortCause): Promise<void>
}

/** Drains the transactions of `node` within `graceMs`; resolves once they are, or the grace ended. */
export async function drainTransactions(node: Drainable, graceMs: number): Promise<void> {
  const started = Date.now()
  await waitUntil(() => !node.list().some((t) => t.state === 'ACTIVE'), started + graceMs / 2)
  const drained = node.list().filter((t) => t.state === 'ACTIVE')
  await Promise.allSettled(
    drained.map((t) => node.abort(t, { reason: 'the TM is shutting down (drained): retry, on another node or once it is back', retryable: true })),
  )
  // Commits in flight reach their outcome (until the grace ends), and the
  // callers of drained transactions get a moment to ask and hear ABORTED
  // (a caller that stays silent longer finds the node gone instead).
  // Phase 2 counts while it runs, whatever the state: an operator's forced resolution makes a transaction
  // HEURISTIC while its other branches still commit (found by hostile testing: one was left prepared at exit).
  const finishing = (t: Transaction): boolean => t.state === 'PREPARING' || t.state === 'ROLLING_BACK' || t.phaseTwoRunning
  const stragglersUntil = Math.min(started + graceMs, Date.now() + DRAINED_CALLER_WAIT_MS)
  await waitUntil(() => !node.list().some(finishing) && (Date.now() >= stragglersUntil || drained.every((t) => t.callerToldRolledBack)), started + graceMs)
  // The grace is over, and the node is about to close its pools and its log. A Commit still before its
  // decision rolls back at it (as when a lease is lost) instead of deciding now; then Commits reaching
  // their outcome and phase 2s under way get a last moment, so that nothing this node began is left
  // prepared, holding its row locks until the node is back. Found by hostile testing: a Commit whose
  // prepare outlasted the grace logged its decision after the pools closed, and the node exited with
  // one branch committed and the other prepared (the restart finished it).
  const late = node.list().filter((t) => t.state === 'PREPARING')
  for (const t of late) t.doomed ??= { reason: GRACE_ENDED, retryable: true }
  // Decided local branches the application has not reported yet: the TM commits them now, by XID, instead of
  // after localBranchGraceMs (found by hostile testing: a grace shorter than that left them prepared at exit).
  for (const t of node.list()) if (t.state === 'COMMITTING') for (const b of t.branches) if (b.mode === 'local' && !b.reportedDone) b.wake?.()
  if (node.list().some(finishing)) await waitUntil(() => !node.list().some(finishing), Date.now() + lateCommitWaitMs(graceMs))
  // A Commit still stuck before its decision (a prepare waiting on a lock or a paused server) is rolled back
  // now, while the pools are open: closing them would detach a MariaDB branch it prepared, left prepared at
  // exit (found by hostile testing). Recovery rolls back whatever the server prepares after this.
  // Not one whose decision is on its way to the log (a store that has not answered yet): it may land, and
  // commit, after this rollback (found by hostile testing: the store resumed, recorded the commit, and the
  // restart reported COMMITTED for branches rolled back here). Those stay prepared for the next run, or a
  // takeover, to finish from what the log holds.
  const stuck = node.list().filter((t) => t.state === 'PREPARING' && !t.decisionPending)
  await Promise.allSettled(stuck.map((t) => node.abort(t, { reason: GRACE_ENDED, retryable: true })))
}

/** How long past the grace a drain waits for Commits and phase 2s under way: as long as the grace, at most 5 s (none for a grace of 0). */
export function lateCommitWaitMs(graceMs: number): number {
  return Math.min(5000, Math.max(0, graceMs))
}

async function waitUntil(done: () => boolean, deadline: number): Promise<void> {
  while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, Math.min(20, Math.max(1, deadline - Date.now()))))
}
