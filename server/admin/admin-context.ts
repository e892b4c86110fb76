// What the Admin service's parts share, and the small conversions between
// recovery's vocabulary and the wire's.
import type { PreparedBranch } from '../../adapters/types.js'
import type { LogKnowledge } from '../../proto/gen/arbiter/v1/LogKnowledge.js'
import type { RecoveryAction } from '../../proto/gen/arbiter/v1/RecoveryAction.js'
import type { RecoveryStep as WireRecoveryStep } from '../../proto/gen/arbiter/v1/RecoveryStep.js'
import type { Coordinator } from '../coordinator/coordinator.js'
import type { ResourceRegistry } from '../coordinator/resource-registry.js'
import type { DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { HeldElsewhere, Holder } from '../cluster/holders.js'
import type { MemberDetails } from '../cluster/members.js'
import type { LoggedTransaction } from '../log/decision-log.js'
import { TmError } from '../../proto/errors.js'
import type { Action, Knowledge, Recovery } from '../recovery/recovery.js'
import { toWireXid } from '../grpc/transaction-view.js'

export interface AdminConfig {
  /** This TM node (owner of the gtrids it began). */
  readonly nodeId: string
  /** A transaction in COMMITTING longer than this is reported as stuck (default 60 s). */
  readonly stuckAfterMs: number
  /** A resource that does not answer within this is reported unreachable (default 5 s). */
  readonly resourceCallTimeoutMs?: number
  /** Where clients reach this node (known once its port is bound). */
  readonly address: () => string
}

export interface AdminContext {
  readonly coordinator: Coordinator
  readonly recovery: Recovery
  readonly log: DecisionLog
  readonly resources: ResourceRegistry
  readonly logger: Logger
  readonly config: AdminConfig
  /** The cluster as the shared store knows it (log.store: postgres); absent on a node of its own. */
  readonly cluster?: ClusterView
}

/** What Admin reads of the shared store to answer for the whole cluster (server/cluster/). */
export interface ClusterView {
  details(): Promise<MemberDetails[]>
  /** The node that holds each transaction (holders.ts). */
  holders(gtrids: readonly string[]): Promise<Map<string, Holder>>
  /** Other nodes' decided or resolved, unfinished transactions. */
  unfinishedElsewhere(): Promise<HeldElsewhere[]>
  /** A transaction as the store holds it (a decision, resolutions), whoever owns it. */
  lookUp(gtrid: string): Promise<LoggedTransaction | undefined>
  /** This node took `nodeId` over: its orphans are this node's to judge. */
  adopts(nodeId: string): boolean
}

/**
 * TM_WRONG_NODE for a request only `holder` may serve (it holds the
 * transaction: its fenced writes alone may decide or resolve it).
 */
export function wrongNode(gtrid: string, holder: Holder, what: string): TmError {
  // Found by hostile testing: a node the store never had was told to wait for a takeover that cannot come.
  if (holder.address === '' && !holder.live) {
    return new TmError('TM_WRONG_NODE', `${what} ${gtrid}: its gtrid names node ${holder.nodeId}, which has never been a member of this cluster (the shared store has no such node): a transaction of another deployment?`, {
      metadata: { gtrid, node: holder.nodeId, address: '', live: 'false' },
    })
  }
  const where = holder.address === '' ? 'its address is not in the store' : `send it to ${holder.address}`
  const state = holder.live ? 'live' : 'its lease lapsed and it is not yet taken over: wait for a takeover (cluster.leaseMs), or start it again'
  return new TmError('TM_WRONG_NODE', `${what} ${gtrid}: node ${holder.nodeId} holds it (${state}): ${where}`, {
    // live: whether following the address can reach it (the CLI says why not when it cannot).
    metadata: { gtrid, node: holder.nodeId, address: holder.address, live: String(holder.live) },
  })
}

/** A failure to read the shared store, as operators get it. */
export function storeUnavailable(what: string, error: unknown): TmError {
  return new TmError('TM_RM_UNAVAILABLE', `the shared store could not be read for ${what}: ${messageOf(error)}`)
}

const KNOWLEDGE: Record<Knowledge, LogKnowledge> = {
  committed: 'LOG_KNOWLEDGE_COMMITTED',
  'no-decision': 'LOG_KNOWLEDGE_NO_DECISION',
  // A taken-over node's orphan has no decision either; the why names the node.
  'taken-over': 'LOG_KNOWLEDGE_NO_DECISION',
  live: 'LOG_KNOWLEDGE_LIVE',
  'resolved-commit': 'LOG_KNOWLEDGE_RESOLVED_COMMIT',
  'resolved-rollback': 'LOG_KNOWLEDGE_RESOLVED_ROLLBACK',
  foreign: 'LOG_KNOWLEDGE_FOREIGN',
  'other-node': 'LOG_KNOWLEDGE_OTHER_NODE',
}

/** What recovery does with a branch, or an operator's abandon (resolve-branch.ts). */
export type StepAction = Action | 'abandon'

const ACTION: Record<StepAction, RecoveryAction> = {
  abandon: 'RECOVERY_ACTION_ABANDON',
  commit: 'RECOVERY_ACTION_COMMIT',
  rollback: 'RECOVERY_ACTION_ROLLBACK',
  'rollback-after-grace': 'RECOVERY_ACTION_ROLLBACK_AFTER_GRACE',
  wait: 'RECOVERY_ACTION_WAIT',
  none: 'RECOVERY_ACTION_NONE',
}

export function toWireKnowledge(knowledge: Knowledge): LogKnowledge {
  return KNOWLEDGE[knowledge]
}

export function toWireAction(action: StepAction): RecoveryAction {
  return ACTION[action]
}

export function toWireStep(resource: string, branch: Pick<PreparedBranch, 'xid'>, action: StepAction, result: string): WireRecoveryStep {
  return { resource, xid: toWireXid(branch.xid), action: toWireAction(action), result }
}

/** Rejects with `what` timed out after `ms`; the underlying call is left to finish on its own. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

export const DEFAULT_RESOURCE_CALL_TIMEOUT_MS = 5000
