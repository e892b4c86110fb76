// Phase 2 of each branch of a decided transaction (commit-protocol.ts): a
// managed branch on its own session first, then by XID; a local branch by the
// application, or by the TM when it does not hear back. Both give way to an
// operator's forced resolution (operator-resolutions.ts).
import { failpoint } from '../failpoints.js'
import { PartlyCommittedError, type BranchSession } from '../../adapters/types.js'
import { finishById, finishedInPart, otherwiseResolved, type FinisherContext } from './branch-finisher.js'
import type { CommitContext } from './commit-protocol.js'
import { onBranch, type Branch, type Transaction } from './transaction.js'

/** Phase 2 of a managed branch: on its own session first (MariaDB needs that), then by XID. */
export async function commitManaged(ctx: FinisherContext, tx: Transaction, branch: Branch): Promise<void> {
  const onSession = await onBranch(branch, async () => {
    if (!branch.session) return false
    const session = await branch.session
    try {
      // An operator resolved it to roll back (forced) before phase 2 got to it: theirs (operator-resolutions.ts).
      // Phase 2 ends when their rollback was carried out (or tried), so it ends HEURISTIC, not stuck.
      if (otherwiseResolved(branch, 'commit')) return await carryOutResolution(branch, session)
      const outcome = await session.commit()
      // "Already done" while an operator rolled it back meanwhile is their rollback, not a commit.
      if (outcome === 'already-done' && otherwiseResolved(branch, 'commit')) return await carryOutResolution(branch, session)
      branch.state = 'committed'
      ctx.logger.debug({ gtrid: tx.gtrid, resource: branch.resource, bqual: branch.xid.bqual.toString('hex') }, 'branch committed')
      return true
    } catch (error) {
      if (error instanceof PartlyCommittedError) return await finishedInPart(ctx, tx.gtrid, branch, error)
      branch.attempts += 1
      branch.lastError = error instanceof Error ? error.message : String(error)
      const errorClass = (error as { errorClass?: string }).errorClass
      if (errorClass !== undefined) ctx.observer?.resourceError(branch.resource, errorClass)
      ctx.logger.warn({ gtrid: tx.gtrid, resource: branch.resource, err: branch.lastError }, 'phase 2 commit on the session failed: finishing by XID')
      return false
    } finally {
      branch.session = undefined
      await session.release()
    }
  })
  if (!onSession) await finishById(ctx, tx.gtrid, branch, 'commit')
  await failpoint('after-phase2-commit')
}

/**
 * Phase 2 gave way to an operator's forced rollback (or abandon): it waits for their call,
 * and carries the rollback out on the branch's own session when their call
 * could not (MariaDB lets only the preparing session finish a branch while it
 * lives; found by hostile testing: the session was then destroyed and the
 * branch left prepared, holding its locks, until a recovery pass).
 */
async function carryOutResolution(branch: Branch, session: BranchSession): Promise<true> {
  await branch.resolving
  // An abandoned branch is left as it is: its server was declared gone, and nothing is sent to it.
  if (branch.state === 'prepared' && branch.resolution === 'rollback') {
    await session.rollback()
    branch.state = 'rolled-back'
  }
  return true
}

/** Phase 2 of a local branch: the application commits it; the TM does it itself if it does not hear back. */
export async function commitLocal(ctx: CommitContext, tx: Transaction, branch: Branch): Promise<void> {
  if (!branch.reportedDone) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ctx.localBranchGraceMs)
      branch.wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })
  }
  if (branch.reportedDone) {
    branch.state = 'committed'
    return
  }
  ctx.logger.info({ gtrid: tx.gtrid, resource: branch.resource }, 'application did not report its local branch: committing it from the TM')
  await finishById(ctx, tx.gtrid, branch, 'commit')
}
