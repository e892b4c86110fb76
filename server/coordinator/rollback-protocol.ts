// Rolling a transaction back before its commit point. Presumed abort: no log
// record. Managed branches roll back on their sessions (or by XID when a
// session is stuck); prepared local branches by XID in the background, since
// the application also rolls them back itself. What cannot be rolled back
// now is left to recovery, which presumes abort for any prepared branch
// without a decision.
import type { Logger } from '../logger.js'
import { finishById, type FinisherContext } from './branch-finisher.js'
import { onBranch, type Branch, type Transaction } from './transaction.js'

export interface AbortCause {
  readonly reason: string
  readonly serverCode?: string | undefined
  readonly retryable?: boolean
}

/** How long a rollback waits behind a session's in-flight work before going around it. */
const SESSION_ROLLBACK_WAIT_MS = 3000
/** Background rollback attempts before recovery takes over. */
const CLEANUP_ATTEMPTS = 8

/** Moves the transaction to ROLLING_BACK → ROLLED_BACK. Idempotent: a second call waits for the first. */
export function abortTransaction(
  ctx: FinisherContext & { logger: Logger; localBranchGraceMs: number },
  tx: Transaction,
  cause: AbortCause,
): Promise<void> {
  if (tx.rollbackOutcome) return tx.rollbackOutcome
  tx.state = 'ROLLING_BACK'
  tx.abortReason = cause.reason
  tx.abortServerCode = cause.serverCode
  tx.abortRetryable = cause.retryable ?? false
  tx.touch()
  clearTimeout(tx.deadlineTimer)
  tx.deadlineTimer = undefined
  tx.cancel.abort()
  ctx.logger.info({ gtrid: tx.gtrid, reason: cause.reason }, 'rolling back')
  tx.rollbackOutcome = (async () => {
    await Promise.all(tx.branches.map((b) => rollbackBranch(ctx, tx, b)))
    // A branch that escaped may have committed: the outcome is mixed, not rolled back.
    tx.state = tx.escaped === undefined ? 'ROLLED_BACK' : 'HEURISTIC'
    tx.touch()
    ctx.logger.debug({ gtrid: tx.gtrid }, 'rolled back')
  })()
  return tx.rollbackOutcome
}

async function rollbackBranch(ctx: FinisherContext & { localBranchGraceMs: number }, tx: Transaction, branch: Branch): Promise<void> {
  if (branch.state === 'read-only' || branch.state === 'rolled-back' || branch.state === 'committed') {
    // Finished already (an operator's forced resolution of the prepared branch) but still holding its session:
    // give it back (found by hostile testing: the pool's end, and so a graceful stop, waited for it for ever).
    if (branch.mode === 'managed' && branch.session) await onBranch(branch, () => releaseSession(branch))
    return
  }
  // An escaped branch has no transaction left on its server; its session is closed below.
  if (branch.mode === 'local') {
    // An active local branch is the application's to roll back (and the
    // server does so when its connection ends). A prepared one the TM also
    // rolls back, after the same grace it gives commits: two finishers at
    // once only make PostgreSQL answer "is busy" to one of them.
    if (branch.state === 'prepared') {
      setTimeout(() => void finishById(ctx, tx.gtrid, branch, 'rollback', { maxAttempts: CLEANUP_ATTEMPTS }), ctx.localBranchGraceMs).unref()
    }
    return
  }
  if (!branch.session) return
  const onSession = onBranch(branch, async () => {
    const session = branch.session
    branch.session = undefined
    if (!session) return
    const s = await session
    try {
      await s.rollback()
      if (branch.state !== 'escaped') branch.state = 'rolled-back'
    } finally {
      await s.release()
    }
  })
  let timer: NodeJS.Timeout | undefined
  const waited = await Promise.race([
    onSession.then(() => 'done' as const, () => 'failed' as const),
    new Promise<'slow'>((resolve) => (timer = setTimeout(() => resolve('slow'), SESSION_ROLLBACK_WAIT_MS))),
  ]).finally(() => clearTimeout(timer))
  if (waited !== 'done') {
    ctx.logger.warn({ gtrid: tx.gtrid, resource: branch.resource, bqual: branch.xid.bqual.toString('hex'), waited }, 'branch rollback on its session did not finish: rolling back by XID')
    // The session is given up at once, not when the work queued on it ends: a session still busy is destroyed
    // (its server then drops the open branch). Found by hostile testing: a statement running for 40 s kept its
    // pooled connection checked out, and the pool's end, so a graceful stop, waited for it.
    void releaseSession(branch)
    // The session is stuck or broken: roll back by XID from another one (a no-op
    // "already done" when nothing was prepared; the server drops an active branch with its session).
    void finishById(ctx, tx.gtrid, branch, 'rollback', { maxAttempts: CLEANUP_ATTEMPTS })
  }
}

/** Gives the branch's session back to its pool (one that never began has nothing to give back). */
export async function releaseSession(branch: Branch): Promise<void> {
  const session = branch.session
  branch.session = undefined
  if (session) await session.then((s) => s.release(), () => undefined)
}
