// Admin.ListInDoubt and Admin.RunRecovery. ListInDoubt joins each resource's
// prepared branches with what recovery would do with them (Recovery.assess,
// the same judgement the recovery pass uses), plus the prepared transactions
// that are not Arbiter's (FOREIGN, action NONE: never touched).
import type { PreparedBranch } from '../../adapters/types.js'
import { parseGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { InDoubtBranch } from '../../proto/gen/arbiter/v1/InDoubtBranch.js'
import type { ListInDoubtResponse } from '../../proto/gen/arbiter/v1/ListInDoubtResponse.js'
import type { RecoveryStep as WireRecoveryStep } from '../../proto/gen/arbiter/v1/RecoveryStep.js'
import type { RunRecoveryResponse } from '../../proto/gen/arbiter/v1/RunRecoveryResponse.js'
import { toWireXid } from '../grpc/transaction-view.js'
import {
  DEFAULT_RESOURCE_CALL_TIMEOUT_MS,
  messageOf,
  toWireAction,
  toWireKnowledge,
  toWireStep,
  withTimeout,
  storeUnavailable,
  type AdminContext,
  type ClusterView,
} from './admin-context.js'
import type { Holder, StoreOutcome } from '../cluster/holders.js'

export function resourceNames(ctx: AdminContext, only: string): string[] {
  if (only && !ctx.resources.has(only)) {
    throw new TmError('TM_INVALID_ARGUMENT', `unknown resource "${only}" (configured: ${ctx.resources.names().join(', ') || 'none'})`)
  }
  return only ? [only] : ctx.resources.names()
}

/** Age where the server tells it (PostgreSQL), else read from the gtrid's ULID; absent when neither knows (absent is not 0). */
function ageMs(now: number, preparedAt: Date | undefined, gtrid: Buffer | undefined): { ageMs?: string } {
  if (preparedAt) return { ageMs: String(Math.max(0, now - preparedAt.getTime())) }
  if (gtrid) {
    try {
      return { ageMs: String(Math.max(0, now - parseGtrid(gtrid).createdAt.getTime())) }
    } catch {
      // not an Arbiter gtrid
    }
  }
  return {}
}

/** The node an Arbiter gtrid names ('' when it names none). */
function namedNode(gtrid: Buffer): string {
  try {
    return parseGtrid(gtrid).nodeId
  } catch {
    return ''
  }
}

export async function listInDoubt(ctx: AdminContext, only: string): Promise<ListInDoubtResponse> {
  const timeoutMs = ctx.config.resourceCallTimeoutMs ?? DEFAULT_RESOURCE_CALL_TIMEOUT_MS
  const unreachable: Record<string, string> = {}
  const now = Date.now()
  const perResource = await Promise.all(
    resourceNames(ctx, only).map(async (name): Promise<InDoubtBranch[]> => {
      const adapter = ctx.resources.adapter(name)!
      if (!ctx.resources.isReady(name)) {
        unreachable[name] = ctx.resources.lastError(name) ?? 'not connected yet'
        return []
      }
      try {
        const [ours, foreign] = await withTimeout(Promise.all([adapter.recover(), adapter.listForeign()]), timeoutMs, `resource "${name}"`)
        return [
          ...ours.map((branch): InDoubtBranch => {
            const { knowledge, action, why } = ctx.recovery.assess(name, branch)
            return {
              resource: name,
              xid: toWireXid(branch.xid),
              gtrid: branch.xid.gtrid.toString('utf8'),
              rawId: branch.rawId,
              ...ageMs(now, branch.preparedAt, branch.xid.gtrid),
              knowledge: toWireKnowledge(knowledge),
              action: toWireAction(action),
              // Its own, or a node it took over: this node finishes it. Another node's: the node its gtrid names,
              // or in a cluster its holder (filled in below).
              node: knowledge === 'other-node' ? namedNode(branch.xid.gtrid) : ctx.config.nodeId,
              why,
            }
          }),
          ...foreign.map(
            (f): InDoubtBranch => ({
              resource: name,
              xid: null,
              gtrid: '',
              rawId: f.rawId,
              ...ageMs(now, f.preparedAt, undefined),
              knowledge: 'LOG_KNOWLEDGE_FOREIGN',
              action: 'RECOVERY_ACTION_NONE',
              node: '',
            }),
          ),
        ]
      } catch (error) {
        unreachable[name] = messageOf(error)
        return []
      }
    }),
  )
  const branches = perResource.flat()
  if (ctx.cluster) await fillOtherNodes(ctx.cluster, branches, ctx.config.nodeId)
  return { branches, unreachable }
}

const STORE_KNOWLEDGE: Record<StoreOutcome, InDoubtBranch['knowledge']> = {
  commit: 'LOG_KNOWLEDGE_COMMITTED',
  abort: 'LOG_KNOWLEDGE_NO_DECISION',
  resolved: 'LOG_KNOWLEDGE_OTHER_NODE',
}

/**
 * Another node's branches, in a cluster: the node that finishes each (its
 * holder) and what the shared store knows of it. This node does nothing
 * with them (action NONE): their holder's recovery does.
 */
async function fillOtherNodes(cluster: ClusterView, branches: InDoubtBranch[], self: string): Promise<void> {
  // This node's own branches without a decision in its log may be held by another node too (it took this node over
  // while it was down): then that node's word counts, not "will roll back" (found by hostile testing: shown so for a
  // committed transaction another node was finishing, inviting an operator to roll it back).
  const undecided = (b: InDoubtBranch): boolean => b.knowledge === 'LOG_KNOWLEDGE_NO_DECISION' && b.node === self
  const others = branches.filter((b) => b.knowledge === 'LOG_KNOWLEDGE_OTHER_NODE' || undecided(b))
  if (others.length === 0) return
  let holders: Map<string, Holder>
  try {
    holders = await cluster.holders(others.map((b) => b.gtrid!))
  } catch (error) {
    throw storeUnavailable('the other nodes\' branches', error)
  }
  for (const branch of others) {
    const holder = holders.get(branch.gtrid!)
    if (!holder) continue
    if (undecided(branch) && holder.nodeId === self) continue // this node's own: its recovery's word stands
    branch.action = 'RECOVERY_ACTION_NONE'
    branch.node = holder.nodeId
    // Found by hostile testing: a holder that is down read "node X commits it" while nothing would until a takeover
    // or its restart; whether it is live is now on the wire, and in words.
    branch.nodeLive = holder.live
    branch.why = `held by node "${holder.nodeId}" in the shared store${holder.outcome ? ` (${holder.outcome})` : ''}: ${holderWork(holder)}; this node leaves it alone`
    if (holder.outcome !== undefined) branch.knowledge = STORE_KNOWLEDGE[holder.outcome]
  }
}

/** Who finishes a holder's branch, and when. */
function holderWork(holder: Holder): string {
  if (holder.live) return 'its recovery finishes it'
  if (holder.address === '') return 'no such node has ever been a member of this cluster: a branch of another deployment?'
  return 'its lease lapsed and no node has taken it over yet: nothing finishes it until a node with all its resources takes it over, or it starts again'
}

/**
 * One recovery pass now. A branch whose decision is logged but whose phase
 * 2 is between two retries (recovery says "wait") is committed right away:
 * the decision is durable and commit is idempotent, so an operator asking
 * for recovery need not wait for the retry loop's next turn.
 */
export async function runRecovery(ctx: AdminContext, only: string): Promise<RunRecoveryResponse> {
  resourceNames(ctx, only)
  const report = await ctx.recovery.scan(only || undefined)
  const steps: WireRecoveryStep[] = []
  for (const step of report.steps) {
    if (only && step.resource !== only) continue
    if (step.action === 'wait' && ctx.recovery.assess(step.resource, step.branch).knowledge === 'committed') {
      // Judged again as the only actor on its branches (gtrid-lock.ts): an operator's resolution may have come between.
      const gtrid = step.branch.xid.gtrid.toString('utf8')
      steps.push(await ctx.coordinator.exclusive(gtrid, async () => {
        const now = ctx.recovery.assess(step.resource, step.branch)
        if (now.knowledge === 'committed') return commitDecided(ctx, step.resource, step.branch)
        return toWireStep(step.resource, step.branch, now.action, `left to recovery: ${now.why}`)
      }))
      continue
    }
    steps.push(toWireStep(step.resource, step.branch, step.action, step.result))
  }
  const unreachable = only ? Object.fromEntries(Object.entries(report.unreachable).filter(([name]) => name === only)) : report.unreachable
  return { steps, unreachable }
}

async function commitDecided(ctx: AdminContext, resource: string, branch: PreparedBranch): Promise<WireRecoveryStep> {
  const adapter = ctx.resources.adapter(resource)!
  try {
    const outcome = await adapter.commit(branch.xid)
    return toWireStep(resource, branch, 'commit', outcome === 'done' ? 'done' : 'already done')
  } catch (error) {
    return toWireStep(resource, branch, 'wait', `decision logged; phase 2 keeps retrying: ${messageOf(error)}`)
  }
}
