// Finishing a branch by XID from any pooled session: the path for phase 2
// when the preparing session is gone, for recovery, and for cleanup after an
// abort. Commits retry until done (a decided transaction must commit: no
// attempt limit); rollbacks give up after a bound and leave the rest to
// recovery, which presumes abort for anything still prepared.
import { AdapterError, PartlyCommittedError } from '../../adapters/types.js'
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { CoordinatorObserver } from './observer.js'
import { backoffDelay, sleep } from './backoff.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { Branch } from './transaction.js'

export interface FinisherContext {
  readonly resources: ResourceRegistry
  readonly logger: Logger
  /** Where a branch committed in part is recorded (finishedInPart). */
  readonly log?: DecisionLog | undefined
  /** Aborted when the TM shuts down: loops stop and recovery takes over at the next start. */
  readonly stopping: AbortSignal
  readonly observer?: CoordinatorObserver | undefined
}

/** Who a heuristic resolution the TM logs itself names as its author (ResolutionRecord.operator). */
export const TM_AS_OPERATOR = 'arbiter (phase 2)'

export type FinishAction = 'commit' | 'rollback'

/**
 * Commits or rolls back `branch` by XID, retrying with backoff. Resolves true
 * once done (or already done), false when it gave up (rollback bound, or
 * shutdown).
 */
export async function finishById(
  ctx: FinisherContext,
  gtrid: string,
  branch: Branch,
  action: FinishAction,
  options: { maxAttempts?: number } = {},
): Promise<boolean> {
  const maxAttempts = options.maxAttempts ?? Number.POSITIVE_INFINITY
  for (let attempt = 0; attempt < maxAttempts && !ctx.stopping.aborted; attempt++) {
    if (otherwiseResolved(branch, action)) {
      ctx.logger.warn({ gtrid, resource: branch.resource, action, resolution: branch.resolution }, 'an operator resolved the branch otherwise: giving way')
      await branch.resolving // their outcome is the branch's state once this settles
      return false
    }
    const adapter = ctx.resources.adapter(branch.resource)
    if (!adapter) {
      branch.lastError = `resource "${branch.resource}" is not configured`
      ctx.logger.error({ gtrid, resource: branch.resource }, 'branch on an unconfigured resource: an operator must resolve it')
      return false
    }
    const elsewhere = preparedElsewhere(ctx, branch)
    if (elsewhere !== undefined) {
      // Found by hostile testing: a resource whose url now reaches another server (or Redis database or prefix)
      // answered "unknown XID" there, which read as already committed: COMMITTED while the branch stayed
      // prepared where it was, later presumed aborted. Nothing is finished until it reaches that server again.
      branch.attempts += 1
      if (branch.lastError !== elsewhere) ctx.logger.error({ gtrid, resource: branch.resource, action }, elsewhere)
      branch.lastError = elsewhere
      await sleep(backoffDelay(attempt, { baseMs: 1000, capMs: 30_000 }), ctx.stopping)
      continue
    }
    try {
      const outcome = await adapter[action](branch.xid)
      // "Already done" is believed only from the server the branch was prepared on, asked again now: the server
      // behind the url may have changed since it was read (a Redis that lost its data, a moved address; found by review).
      if (outcome === 'already-done' && branch.preparedOn !== undefined) {
        const now = await ctx.resources.freshIdentityTag(branch.resource)
        if (now !== undefined && now !== branch.preparedOn) continue // preparedElsewhere says so on the next turn
      }
      // "Already done" while an operator resolved it the other way meanwhile is theirs (operator-resolutions.ts).
      if (outcome === 'already-done' && otherwiseResolved(branch, action)) {
        await branch.resolving
        return false
      }
      branch.state = action === 'commit' ? 'committed' : 'rolled-back'
      branch.lastError = undefined
      ctx.logger.info({ gtrid, resource: branch.resource, bqual: branch.xid.bqual.toString('hex'), action, outcome }, 'branch finished')
      return true
    } catch (error) {
      if (error instanceof PartlyCommittedError) return await finishedInPart(ctx, gtrid, branch, error)
      if (action === 'commit' && error instanceof AdapterError && error.serverCode === '1402') {
        // MariaDB rolls back a prepared branch that changed no row when its
        // session detaches: there was nothing to commit, so the branch is done.
        branch.state = 'committed'
        ctx.logger.warn({ gtrid, resource: branch.resource }, 'branch changed no rows and was dropped by MariaDB (1402): nothing to commit')
        return true
      }
      branch.attempts += 1
      branch.lastError = errorText(error)
      if (error instanceof AdapterError) ctx.observer?.resourceError(branch.resource, error.errorClass)
      ctx.logger.warn(
        { gtrid, resource: branch.resource, action, attempt, err: branch.lastError },
        `branch ${action} failed, retrying`,
      )
      await sleep(backoffDelay(attempt, { baseMs: 50, capMs: 5000 }), ctx.stopping)
    }
  }
  return false
}

/**
 * The branch's commit applied only in part: it is finished (nothing more can
 * be applied), and the transaction's outcome is heuristic (commit-protocol.ts).
 */
export async function finishedInPart(ctx: FinisherContext, gtrid: string, branch: Branch, error: PartlyCommittedError): Promise<true> {
  branch.state = 'committed'
  branch.partlyCommitted = error.message
  branch.lastError = error.message
  ctx.observer?.resourceError(branch.resource, error.errorClass)
  ctx.logger.error({ gtrid, resource: branch.resource, err: error.message }, 'branch committed in part: the transaction has a heuristic outcome')
  // Forced before phase 2 goes on, so before any answer: after a crash the log must not read COMMITTED (the
  // branch's record is gone from the resource, so re-committing it answers "already done"). Found by hostile
  // testing: written in the background with END, a crash before it turned HEURISTIC into COMMITTED.
  await ctx.log
    ?.appendResolution({
      gtrid,
      resource: branch.resource,
      bqual: branch.xid.bqual.toString('hex'),
      action: 'commit',
      operator: TM_AS_OPERATOR,
      reason: `committed in part: ${error.message}`,
      heuristic: true,
      inPart: true,
    })
    .catch((logError: unknown) => ctx.logger.error({ gtrid, resource: branch.resource, err: String(logError) }, 'a branch committed in part could not be logged: after a restart it reads COMMITTED'))
  return true
}

/** Why the branch cannot be finished through its resource now: it reaches another server than the one it was prepared on. */
function preparedElsewhere(ctx: FinisherContext, branch: Branch): string | undefined {
  if (branch.preparedOn === undefined) return undefined
  const now = ctx.resources.identityTag(branch.resource)
  if (now === undefined || now === branch.preparedOn) return undefined
  return (
    `resource "${branch.resource}" now reaches another server or database than the one this branch was prepared on ` +
    `(${ctx.resources.identity(branch.resource)}, tag ${now}; prepared on tag ${branch.preparedOn}): its url was changed. ` +
    'The branch is left prepared there and finished once the resource reaches that server again'
  )
}

/** An operator's resolution says otherwise than `action` (it may be set while a call awaits). */
export function otherwiseResolved(branch: Branch, action: FinishAction): boolean {
  return branch.resolution !== undefined && branch.resolution !== action
}

/** An error as a branch's lastError: the message, with the server's code when an adapter gives one. */
function errorText(error: unknown): string {
  if (error instanceof AdapterError) {
    return `${error.message}${error.serverCode ? ` (${error.serverCode})` : ''}`
  }
  return error instanceof Error ? error.message : String(error)
}
