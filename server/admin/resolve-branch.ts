// Admin.ResolveBranch: an operator commits or rolls back a prepared branch
// (or every prepared branch of a transaction) by hand (reliability.md §4),
// or abandons a decided one whose server is gone (abandon-branch.ts).
//
// - A reason is required; the operator is the authenticated caller.
// - Each resolution is forced to the decision log BEFORE it is carried out,
//   so recovery (which asks the log first) carries it out if this call does
//   not get to, and never undoes it.
// - Contradicting what the log says is refused (FAILED_PRECONDITION) unless
//   force is set; then the resolution is heuristic and so is the transaction:
//   rolling back a branch of a logged COMMIT decision; committing a branch
//   with no decision (that contradicts presumed abort); resolving a branch
//   whose transaction is still in progress here or belongs to another node
//   (the decision may yet come, or be in another log); reversing an earlier
//   operator's resolution.
// - The whole request is judged before anything is logged: one refused
//   branch refuses all of them.
import type { FinishOutcome, PreparedBranch, Xid } from '../../adapters/types.js'
import { ARBITER_FORMAT_ID, parseGtrid, xidEquals, xidFromParts, xidToString } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import { Resolution } from '../../proto/gen/arbiter/v1/Resolution.js'
import { enumField } from '../grpc/enum-fields.js'
import { failpoint } from '../failpoints.js'
import type { ResolveBranchRequest__Output } from '../../proto/gen/arbiter/v1/ResolveBranchRequest.js'
import type { ResolveBranchResponse } from '../../proto/gen/arbiter/v1/ResolveBranchResponse.js'
import type { RecoveryStep as WireRecoveryStep } from '../../proto/gen/arbiter/v1/RecoveryStep.js'
import type { Holder } from '../cluster/holders.js'
import { abandonBranches } from './abandon-branch.js'
import { checkedReason } from '../grpc/reason-field.js'
import { DEFAULT_RESOURCE_CALL_TIMEOUT_MS, messageOf, storeUnavailable, toWireStep, withTimeout, wrongNode, type AdminContext } from './admin-context.js'


type ResolutionAction = 'commit' | 'rollback' | 'abandon'

interface Target {
  readonly resource: string
  readonly branch: PreparedBranch
}

interface Judgement {
  /** Why force is needed; undefined when the resolution agrees with the log. */
  readonly contradiction: string | undefined
  readonly heuristic: boolean
}

export async function resolveBranch(ctx: AdminContext, req: ResolveBranchRequest__Output, operator: string): Promise<ResolveBranchResponse> {
  const action = resolutionAction(req.resolution)
  const reason = checkedReason(req.reason, 'reason')
  if (reason === '') throw new TmError('TM_INVALID_ARGUMENT', 'reason is required: it goes into the audit record')

  // One actor at a time on the transaction's branches (gtrid-lock.ts): the branches are listed and
  // judged again here, after any recovery step or other resolution of them under way has finished.
  return ctx.coordinator.exclusive(requestGtrid(req), () => resolveExclusively(ctx, req, action, reason, operator))
}

async function resolveExclusively(
  ctx: AdminContext,
  req: ResolveBranchRequest__Output,
  action: ResolutionAction,
  reason: string,
  operator: string,
): Promise<ResolveBranchResponse> {
  if (action === 'abandon') return abandonBranches(ctx, req, requestedBranch(req), reason, operator)
  const targets = await findTargets(ctx, req)
  await refuseHeldElsewhere(ctx, targets)
  refuseOtherNodes(ctx, targets)
  const judged = targets.map((t) => ({ ...t, ...judge(ctx, t, action) }))
  const refused = judged.filter((j) => j.contradiction !== undefined)
  if (refused.length > 0 && !req.force) {
    const list = refused.map((j) => `${j.resource} ${xidToString(j.branch.xid)}: ${j.contradiction}`).join('; ')
    throw new TmError('TM_ILLEGAL_STATE', `refused: ${list}. Set force to override; the outcome is then HEURISTIC`)
  }

  await failpoint('before-resolution') // judged, nothing logged yet: where a racing actor would slip in

  // Claimed before anything is logged, as recovery does before presuming abort: judged not in
  // progress just now (synchronously), no client may begin the gtrid and log a COMMIT decision
  // while the rollback is written and carried out (found by hostile testing: a client-named
  // Commit that arrived during the resolution's fsync committed over the rolled-back branch).
  if (action === 'rollback') for (const j of judged) ctx.coordinator.claimOrphan(j.branch.xid.gtrid.toString('utf8'))

  const steps: WireRecoveryStep[] = []
  for (const j of judged) {
    const gtrid = j.branch.xid.gtrid.toString('utf8')
    const bqual = j.branch.xid.bqual.toString('hex')
    try {
      await ctx.log.appendResolution({ gtrid, resource: j.resource, bqual, action, operator, reason, heuristic: j.heuristic })
    } catch (error) {
      throw new TmError(
        'TM_INTERNAL',
        `the resolution of ${j.resource} ${xidToString(j.branch.xid)} could not be logged, so it was not carried out: ${messageOf(error)}` +
          (steps.length > 0 ? ` (${steps.length} earlier branch(es) of this request were resolved)` : ''),
        { cause: error },
      )
    }
    ctx.logger.warn({ gtrid, resource: j.resource, bqual, action, operator, reason, heuristic: j.heuristic }, 'operator resolution logged')
    ctx.coordinator.markResolving(gtrid, j.resource, j.branch.xid.bqual, action)
    let result: string
    let finished: FinishOutcome | undefined
    try {
      finished = await ctx.resources.adapter(j.resource)![action](j.branch.xid)
      // 'already-done': the branch was listed prepared just now, but this call did not finish it, and the
      // resource cannot say which way it went: never reported as this resolution carried out.
      result = finished === 'done' ? 'done' : ALREADY_FINISHED
    } catch (error) {
      result = `failed: ${messageOf(error)} (the resolution is logged: recovery carries it out while the branch is still prepared)`
    }
    const overtaken = ctx.coordinator.noteResolution(gtrid, j.resource, j.branch.xid.bqual, action, { finished, heuristic: j.heuristic, operator, reason })
    if (overtaken) {
      // Phase 2 committed the branch before this forced rollback reached it: the log says so after the
      // rollback's record, so no view calls the transaction HEURISTIC for it after a restart (found by
      // hostile testing; mixingResolution reads each branch's last record).
      await ctx.log
        .appendResolution({ gtrid, resource: j.resource, bqual, action: 'commit', operator, reason: `${reason} (not carried out: phase 2 had committed the branch first)`, heuristic: false })
        .catch((error: unknown) => ctx.logger.warn({ gtrid, resource: j.resource, err: messageOf(error) }, 'the note that phase 2 committed the branch first was not logged'))
    }
    steps.push(toWireStep(j.resource, j.branch, action, result))
  }
  return { steps, heuristic: judged.some((j) => j.heuristic) }
}

/**
 * In a cluster, a transaction another node holds is resolved there: its
 * resolution must be written under that node's lease, as its decision is,
 * and its recovery carries it out. TM_WRONG_NODE names the node.
 */
async function refuseHeldElsewhere(ctx: AdminContext, targets: readonly Target[]): Promise<void> {
  if (!ctx.cluster) return
  const gtrids = [...new Set(targets.map((t) => t.branch.xid.gtrid.toString('utf8')))].filter((g) => !ctx.log.get(g) && !ctx.coordinator.isLive(g))
  if (gtrids.length === 0) return
  let holders: Map<string, Holder>
  try {
    holders = await ctx.cluster.holders(gtrids)
  } catch (error) {
    throw storeUnavailable('who holds the transaction (resolving it here could race its holder)', error)
  }
  for (const gtrid of gtrids) {
    const holder = holders.get(gtrid)
    if (holder && holder.nodeId !== ctx.config.nodeId) throw wrongNode(gtrid, holder, 'resolve the branches of')
  }
}

/**
 * Another node's branch, outside a cluster that took that node over, is
 * refused even with force. Its decision is in that node's own log, which
 * this node's resolution never reaches: that node, restarted, would carry
 * out its decision on the other branches, find this one finished, and
 * report COMMITTED for a mixed outcome, while this node reported a rollback
 * (found by hostile testing: neither said HEURISTIC).
 */
function refuseOtherNodes(ctx: AdminContext, targets: readonly Target[]): void {
  for (const { resource, branch } of targets) {
    const gtrid = branch.xid.gtrid.toString('utf8')
    const owner = parseGtrid(gtrid).nodeId
    if (owner === ctx.config.nodeId || ctx.cluster?.adopts(owner) || ctx.log.get(gtrid) || ctx.coordinator.isLive(gtrid)) continue
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `refused, even with force: ${resource} ${xidToString(branch.xid)} is TM node "${owner}"'s, and its decision is in that node's log, which a resolution here never reaches. ` +
        `Resolve it on node "${owner}" (arbiter admin resolve --address <its address>); started again, it finishes the branch by its own decision`,
      { metadata: { gtrid, node: owner } },
    )
  }
}

/** The result of a resolution whose branch was finished by someone else between its listing and this call. */
export const ALREADY_FINISHED =
  'not carried out: the branch was no longer prepared when this call reached it (finished meanwhile, not by this call; which way is not known here)'

/** The transaction a request is about (checked in findTargets): the key of its turn on the branches. */
function requestGtrid(req: ResolveBranchRequest__Output): string {
  return req.xid && req.xid.gtrid.length > 0 ? Buffer.from(req.xid.gtrid).toString('utf8') : req.gtrid
}

function resolutionAction(resolution: string | number): ResolutionAction {
  const named = enumField(Resolution, resolution, 'resolution', { allowUnspecified: false })
  return named === 'RESOLUTION_COMMIT' ? 'commit' : named === 'RESOLUTION_ABANDON' ? 'abandon' : 'rollback'
}

/** The transaction (and the one branch, when an xid is given) a request names, checked as findTargets checks them. */
function requestedBranch(req: ResolveBranchRequest__Output): { gtrid: string; xid: Xid | undefined } {
  if (req.xid && req.xid.gtrid.length > 0) {
    const xid = wireXid(req.xid)
    if (req.gtrid && req.gtrid !== xid.gtrid.toString('utf8')) throw new TmError('TM_INVALID_ARGUMENT', 'gtrid and xid name different transactions')
    return { gtrid: xid.gtrid.toString('utf8'), xid }
  }
  if (!req.gtrid) throw new TmError('TM_INVALID_ARGUMENT', 'give gtrid (every branch of a transaction) or resource and xid (one branch)')
  checkArbiterGtrid(req.gtrid)
  return { gtrid: req.gtrid, xid: undefined }
}

/** The prepared branches the request names, as the resources list them now. */
async function findTargets(ctx: AdminContext, req: ResolveBranchRequest__Output): Promise<Target[]> {
  const timeoutMs = ctx.config.resourceCallTimeoutMs ?? DEFAULT_RESOURCE_CALL_TIMEOUT_MS
  const recover = async (resource: string): Promise<PreparedBranch[]> => {
    const adapter = ctx.resources.require(resource) // INVALID_ARGUMENT when unknown, UNAVAILABLE while down
    try {
      return await withTimeout(adapter.recover(), timeoutMs, `resource "${resource}"`)
    } catch (error) {
      throw new TmError('TM_RM_UNAVAILABLE', `cannot list the prepared branches of "${resource}": ${messageOf(error)}`, { cause: error })
    }
  }

  if (req.xid && req.xid.gtrid.length > 0) {
    if (!req.resource) throw new TmError('TM_INVALID_ARGUMENT', 'resource is required with xid')
    const xid = wireXid(req.xid)
    if (req.gtrid && req.gtrid !== xid.gtrid.toString('utf8')) {
      throw new TmError('TM_INVALID_ARGUMENT', 'gtrid and xid name different transactions')
    }
    const branch = (await recover(req.resource)).find((b) => xidEquals(b.xid, xid))
    if (!branch) throw new TmError('TM_TX_NOT_FOUND', `${xidToString(xid)} is not prepared on "${req.resource}" (finished already, or never prepared)`)
    return [{ resource: req.resource, branch }]
  }
  if (!req.gtrid) throw new TmError('TM_INVALID_ARGUMENT', 'give gtrid (every branch of a transaction) or resource and xid (one branch)')
  checkArbiterGtrid(req.gtrid)
  const names = req.resource ? [req.resource] : ctx.resources.names()
  const targets: Target[] = []
  for (const name of names) {
    for (const branch of await recover(name)) {
      if (branch.xid.gtrid.toString('utf8') === req.gtrid) targets.push({ resource: name, branch })
    }
  }
  if (targets.length === 0) throw new TmError('TM_TX_NOT_FOUND', `no branch of ${req.gtrid} is prepared on ${req.resource ? `"${req.resource}"` : 'any resource'}`)
  return targets
}

function wireXid(xid: { formatId: number; gtrid: Buffer; bqual: Buffer }): Xid {
  let parsed: Xid
  try {
    parsed = xidFromParts(xid.formatId, xid.gtrid, xid.bqual)
  } catch (error) {
    throw new TmError('TM_INVALID_ARGUMENT', `illegal xid: ${messageOf(error)}`)
  }
  if (parsed.formatId !== ARBITER_FORMAT_ID) {
    throw new TmError('TM_INVALID_ARGUMENT', `formatId ${parsed.formatId} is not Arbiter's (${ARBITER_FORMAT_ID}): foreign branches are never touched`)
  }
  checkArbiterGtrid(parsed.gtrid.toString('utf8'))
  return parsed
}

function checkArbiterGtrid(gtrid: string): void {
  try {
    parseGtrid(gtrid)
  } catch (error) {
    throw new TmError('TM_INVALID_ARGUMENT', `not an Arbiter transaction (foreign branches are never touched): ${messageOf(error)}`)
  }
}

function judge(ctx: AdminContext, target: Target, action: ResolutionAction): Judgement {
  const gtrid = target.branch.xid.gtrid.toString('utf8')
  const bqual = target.branch.xid.bqual.toString('hex')
  const logged = ctx.log.get(gtrid)
  const previous = logged?.resolutions.findLast((r) => r.resource === target.resource && r.bqual === bqual)
  const reverses = previous && previous.action !== action ? `reverses the resolution to ${previous.action} by ${previous.operator}` : undefined
  if (logged?.decision) {
    if (action === 'rollback') return { contradiction: 'contradicts the logged COMMIT decision', heuristic: true }
    return { contradiction: reverses, heuristic: false }
  }
  if (ctx.coordinator.isLive(gtrid)) {
    return { contradiction: 'its transaction is in progress on this TM: the decision may still be made', heuristic: true }
  }
  const owner = parseGtrid(gtrid).nodeId
  if (owner !== ctx.config.nodeId && !ctx.cluster?.adopts(owner)) {
    return { contradiction: `owned by TM node "${owner}": its decision is not in this node's log`, heuristic: true }
  }
  if (action === 'commit') return { contradiction: 'no COMMIT decision is logged: committing contradicts presumed abort', heuristic: true }
  return { contradiction: reverses, heuristic: false }
}
