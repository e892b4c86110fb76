// Admin.ResolveBranch with RESOLUTION_ABANDON: an operator gives up a branch
// of a logged COMMIT decision that phase 2 cannot finish because its server
// is gone for good (lost with its data, or replaced by another). Without it,
// such a transaction stayed COMMITTING for good, phase 2 retrying forever, and
// nothing in Arbiter could end it; committing it "by hand" needs the branch
// listed, which a lost server never does.
//
// - Nothing is sent to the resource, which need not be configured or answer.
// - It is always heuristic (force required): whether the branch committed is
//   not known, so the transaction ends HEURISTIC, never COMMITTED.
// - Refused for a branch its resource lists prepared right now (the server is
//   not gone: commit it, or let phase 2), and for a transaction without a
//   decision in this node's log (no decision: presumed abort, nothing waits
//   for its branches; another node's: resolved there).
// - Logged before it takes effect, like every resolution: a restart reads
//   the branch as abandoned. Should the branch turn up prepared again,
//   recovery commits it, as the decision says (recovery.ts).
import type { Xid } from '../../adapters/types.js'
import { ARBITER_FORMAT_ID, parseGtrid, xidEquals, xidFromParts, xidToString } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { ResolveBranchRequest__Output } from '../../proto/gen/arbiter/v1/ResolveBranchRequest.js'
import type { ResolveBranchResponse } from '../../proto/gen/arbiter/v1/ResolveBranchResponse.js'
import type { RecoveryStep as WireRecoveryStep } from '../../proto/gen/arbiter/v1/RecoveryStep.js'
import { DEFAULT_RESOURCE_CALL_TIMEOUT_MS, messageOf, storeUnavailable, toWireStep, withTimeout, wrongNode, type AdminContext } from './admin-context.js'

interface AbandonTarget {
  readonly resource: string
  readonly xid: Xid
  /** The identity tag of the server it was prepared on (LoggedBranch.on), when known. */
  readonly preparedOn: string | undefined
}

/** What a step of an abandon says it did. */
const ABANDONED = 'abandoned: nothing was sent to the resource; the transaction is HEURISTIC (this branch is not known to have committed)'
const OVERTAKEN = 'not carried out: phase 2 committed the branch while the abandon was judged (its server answered after all)'

export async function abandonBranches(
  ctx: AdminContext,
  req: ResolveBranchRequest__Output,
  request: { gtrid: string; xid: Xid | undefined },
  reason: string,
  operator: string,
): Promise<ResolveBranchResponse> {
  const targets = await findAbandonTargets(ctx, req, request)
  if (!req.force) {
    const list = targets.map((t) => `${t.resource} ${xidToString(t.xid)}`).join('; ')
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `refused: abandoning ${list} gives it up without finishing it, and the transaction then ends HEURISTIC. Set force to confirm that its server is gone for good`,
    )
  }
  for (const t of targets) await refuseListedPrepared(ctx, t)

  const steps: WireRecoveryStep[] = []
  for (const t of targets) {
    const bqual = t.xid.bqual.toString('hex')
    try {
      await ctx.log.appendResolution({ gtrid: request.gtrid, resource: t.resource, bqual, action: 'abandon', operator, reason, heuristic: true })
    } catch (error) {
      throw new TmError(
        'TM_INTERNAL',
        `the abandon of ${t.resource} ${xidToString(t.xid)} could not be logged, so it did not take effect: ${messageOf(error)}` +
          (steps.length > 0 ? ` (${steps.length} earlier branch(es) of this request were abandoned)` : ''),
        { cause: error },
      )
    }
    // Phase 2 may have finished the branch while the abandon was judged and logged (its server answered after all):
    // then the outcome is whole, and the log must say so after the abandon's record (found by hostile testing: a
    // transaction its caller had been told COMMITTED turned HEURISTIC). From here to noteResolution nothing awaits.
    const branch = ctx.coordinator.find(request.gtrid)?.branches.find((b) => b.resource === t.resource && b.xid.bqual.equals(t.xid.bqual))
    if (branch !== undefined && branch.state !== 'prepared') {
      await ctx.log
        .appendResolution({
          gtrid: request.gtrid,
          resource: t.resource,
          bqual,
          action: 'commit',
          operator,
          reason: `${reason} (not carried out: phase 2 had committed the branch first)`,
          heuristic: false,
          overtaken: true,
        })
        .catch((error: unknown) => ctx.logger.warn({ gtrid: request.gtrid, resource: t.resource, err: messageOf(error) }, 'the note that phase 2 committed the branch first was not logged'))
      steps.push(toWireStep(t.resource, t, 'abandon', OVERTAKEN))
      continue
    }
    ctx.logger.warn({ gtrid: request.gtrid, resource: t.resource, bqual, action: 'abandon', operator, reason }, 'operator abandoned a branch (logged)')
    ctx.coordinator.markResolving(request.gtrid, t.resource, t.xid.bqual, 'abandon')
    ctx.coordinator.noteResolution(request.gtrid, t.resource, t.xid.bqual, 'abandon', { finished: 'done', heuristic: true, operator, reason })
    steps.push(toWireStep(t.resource, t, 'abandon', ABANDONED))
  }
  return { steps, heuristic: steps.some((s) => s.result === ABANDONED) }
}

/** The decided branches the request names that phase 2 has not finished, from this node's log. */
async function findAbandonTargets(
  ctx: AdminContext,
  req: ResolveBranchRequest__Output,
  request: { gtrid: string; xid: Xid | undefined },
): Promise<AbandonTarget[]> {
  const { gtrid, xid } = request
  if (xid && !req.resource) throw new TmError('TM_INVALID_ARGUMENT', 'resource is required with xid')
  const logged = ctx.log.get(gtrid)
  if (!logged?.decision) {
    if (ctx.cluster && !ctx.coordinator.isLive(gtrid)) {
      const holder = await ctx.cluster.holders([gtrid]).then((h) => h.get(gtrid), (error: unknown) => {
        throw storeUnavailable('who holds the transaction', error)
      })
      if (holder && holder.nodeId !== ctx.config.nodeId) throw wrongNode(gtrid, holder, 'abandon the branches of')
    }
    const owner = parseGtrid(gtrid).nodeId
    if (owner !== ctx.config.nodeId && !ctx.cluster?.adopts(owner)) {
      // Found by hostile testing: told to roll back another node's branches, whose decision may be COMMIT.
      throw new TmError(
        'TM_ILLEGAL_STATE',
        `${gtrid} is TM node "${owner}"'s: its decision, if any, is in that node's log, not this one's. Abandon it on node "${owner}" (arbiter admin resolve --address <its address>)`,
        { metadata: { gtrid, node: owner } },
      )
    }
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `${gtrid} has no COMMIT decision in this node's log: abandon is for a branch of a decided transaction that phase 2 cannot finish. ` +
        'Without a decision its branches are presumed aborted and nothing waits for them: roll them back once their server is back',
    )
  }
  if (logged.ended) throw new TmError('TM_ILLEGAL_STATE', `${gtrid} is finished already: no branch of its decision is left unfinished (phase 2 finished them, or an operator resolved them)`)
  const named = logged.decision.branches.filter((b) => !req.resource || b.resource === req.resource)
  if (named.length === 0) {
    const on = [...new Set(logged.decision.branches.map((b) => b.resource))].join(', ')
    throw new TmError('TM_TX_NOT_FOUND', `${gtrid}'s decision has no branch on resource "${req.resource}" (its branches are on: ${on})`)
  }
  if (xid && !named.some((b) => b.bqual === xid.bqual.toString('hex'))) {
    throw new TmError('TM_TX_NOT_FOUND', `${gtrid}'s decision has no branch ${xidToString(xid)} on "${req.resource}"`)
  }
  const tx = ctx.coordinator.find(gtrid)
  const targets: AbandonTarget[] = []
  for (const b of named) {
    const branchXid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from(b.bqual, 'hex'))
    if (xid && !xidEquals(xid, branchXid)) continue
    // Finished already: by phase 2 (in memory), or by an operator's earlier resolution (logged).
    const inMemory = tx?.branches.find((m) => m.resource === b.resource && m.xid.bqual.equals(branchXid.bqual))
    if (inMemory && inMemory.state !== 'prepared') continue
    if (logged.resolutions.some((r) => r.resource === b.resource && r.bqual === b.bqual)) continue
    targets.push({ resource: b.resource, xid: branchXid, preparedOn: b.on })
  }
  if (targets.length === 0) {
    const where = xid ? `${req.resource} ${xidToString(xid)}` : req.resource ? `on "${req.resource}"` : ''
    throw new TmError('TM_TX_NOT_FOUND', `no branch of ${gtrid}${where ? ` ${where}` : ''} is left for phase 2 to finish (finished, or resolved already)`)
  }
  return targets
}

/**
 * A branch its resource lists prepared now, on the server it was prepared on,
 * is not lost: it is committed there (by phase 2, or `resolve --commit`).
 * A resource that does not answer, or reaches another server, says nothing.
 */
async function refuseListedPrepared(ctx: AdminContext, t: AbandonTarget): Promise<void> {
  const adapter = ctx.resources.adapter(t.resource)
  if (!adapter || !ctx.resources.isReady(t.resource)) return
  if (t.preparedOn !== undefined && ctx.resources.identityTag(t.resource) !== t.preparedOn) return
  const listed = await withTimeout(adapter.recover(), ctx.config.resourceCallTimeoutMs ?? DEFAULT_RESOURCE_CALL_TIMEOUT_MS, `resource "${t.resource}"`).catch(() => [])
  if (listed.some((b) => xidEquals(b.xid, t.xid))) {
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `refused: ${t.resource} ${xidToString(t.xid)} is prepared on its server, which answers: it is not lost. ` +
        'Phase 2 commits it (arbiter admin in-doubt says what it waits for), or commit it by hand (resolve --commit)',
    )
  }
}
