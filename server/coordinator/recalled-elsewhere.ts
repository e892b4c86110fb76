// Transactions this node does not hold, in a cluster. Another node drives
// them: it began them (the gtrid names it), decided them, or took them over
// from this node (after this node lost its lease, or restarted with its
// node id). A client still asks this node: its answer was lost
// (GetTransaction, a repeated Commit or Run), or it does not know which node
// holds the transaction. What the shared store says decides the answer:
// - a logged decision, or a resolution that mixed the outcome: answered from it (COMMITTING, COMMITTED or
//   HEURISTIC), never
//   driven here: the node that owns it finishes it;
// - another node's transaction that it may still decide (it has not been
//   taken over): TM_WRONG_NODE with that node's address, never NOT_FOUND;
// - a node the store has never had as a member (another deployment's):
//   TM_WRONG_NODE without an address, never NOT_FOUND; a node on its own
//   log answers so for any node id but its own;
// - otherwise NOT_FOUND (presumed aborted), as on a single node: a node that
//   was taken over is fenced at its old epoch and can log no decision now.
import { parseGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { Member } from '../cluster/members.js'
import type { DecisionLog, LoggedTransaction } from '../log/decision-log.js'
import { mixingResolution } from '../log/log-record.js'

/** Who holds what, as the shared store says (server/cluster/members.ts). */
export interface MemberDirectory {
  get(nodeId: string): Promise<Member | undefined>
}

/** The store's answers kept for the call that asked (a few calls in flight at once, not a cache: each call asks again). */
const KEPT = 1000

export class RecalledElsewhere {
  private readonly kept = new Map<string, LoggedTransaction>()

  constructor(
    private readonly log: DecisionLog,
    private readonly nodeId: string,
    private readonly members: MemberDirectory | undefined,
  ) {}

  /**
   * Asks the store about `gtrid` when this node's log does not hold it;
   * get() then answers from what it said. Throws TM_WRONG_NODE for a
   * transaction its node may still decide, TM_RM_UNAVAILABLE when the store
   * cannot be asked (never NOT_FOUND: another node may have committed it).
   */
  async recall(gtrid: string, o: { named?: boolean } = {}): Promise<void> {
    if (gtrid === '' || this.log.get(gtrid)) return
    let owner: string
    try {
      owner = parseGtrid(gtrid).nodeId // a malformed one is refused by the call itself, without asking the store
    } catch {
      return
    }
    if (this.log.lookUp === undefined) {
      // A node on its own log answers only for its own node id's transactions. A client-named begin of
      // another node id is refused by the begin itself (beginRefused: the client names it again via Begin).
      if (owner !== this.nodeId && !o.named) throw notInThisCluster(gtrid, owner, `this node (${this.nodeId}) is not in a cluster: its log holds its own transactions only`)
      return
    }
    try {
      await this.ask(gtrid, owner, o.named === true)
    } catch (error) {
      if (error instanceof TmError) throw error
      throw new TmError('TM_RM_UNAVAILABLE', `transaction ${gtrid} is not this node's, and the shared store could not be asked who holds it: ${error instanceof Error ? error.message : String(error)}`, {
        metadata: { gtrid },
      })
    }
  }

  private async ask(gtrid: string, owner: string, named: boolean): Promise<void> {
    // The member first, the decision after: once a takeover fenced the owner, a decision it made is
    // already in the store when it is read, and none can follow.
    const member = owner !== this.nodeId ? await this.members?.get(owner) : undefined
    const found = await this.log.lookUp?.(gtrid)
    this.kept.delete(gtrid)
    // A decision, or a resolution that mixed the outcome without one (a branch committed by hand): answered from it.
    if (found !== undefined && (found.decision !== undefined || mixingResolution(false, found.resolutions) !== undefined)) {
      this.kept.set(gtrid, found)
      if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!)
      return
    }
    if (owner !== this.nodeId && member === undefined && !named) {
      throw notInThisCluster(gtrid, owner, "this cluster's shared store has never had a member by that id")
    }
    if (member !== undefined && member.takenOverBy === undefined) {
      throw new TmError(
        'TM_WRONG_NODE',
        `transaction ${gtrid} is node ${member.nodeId}'s (${member.live ? 'live' : 'its lease lapsed, not yet taken over'}): send it to ${member.address}`,
        { metadata: { gtrid, node: member.nodeId, address: member.address } },
      )
    }
  }

  get(gtrid: string): LoggedTransaction | undefined {
    return this.kept.get(gtrid)
  }
}

/**
 * A transaction of a node that is not this one nor a member of its cluster:
 * this node knows nothing of it, so it must not answer NOT_FOUND (presumed
 * aborted) — a client given a node of another deployment by mistake took
 * that for the outcome of a transaction that had committed (found by hostile
 * testing). TM_WRONG_NODE without an address: ask the deployment it names.
 */
function notInThisCluster(gtrid: string, owner: string, why: string): TmError {
  return new TmError('TM_WRONG_NODE', `transaction ${gtrid} is node ${owner}'s, which this node cannot answer for: ${why}. Ask a node of the deployment ${owner} belongs to`, {
    metadata: { gtrid, node: owner },
  })
}
