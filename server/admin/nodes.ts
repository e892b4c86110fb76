// Admin.ListNodes: the cluster's nodes for operators (arbiter admin nodes):
// address, lease, epoch, what each drives, takeovers, from the shared store.
// A node on its own lists itself with what its file log holds.
import type { ListNodesResponse } from '../../proto/gen/arbiter/v1/ListNodesResponse.js'
import { TmError } from '../../proto/errors.js'
import type { MemberDetails } from '../cluster/members.js'
import { messageOf, type AdminContext } from './admin-context.js'

export async function listNodes(ctx: AdminContext): Promise<ListNodesResponse> {
  const me = ctx.config.nodeId
  if (!ctx.cluster) {
    return {
      store: 'file',
      nodes: [{ nodeId: me, address: ctx.config.address(), live: true, epoch: '0', leaseLeftMs: 0, unfinishedTransactions: ctx.log.unfinished().length, takenOverBy: '', takenOverAtUnixMs: '0', timesTakenOver: '0', thisNode: true }],
    }
  }
  let nodes: MemberDetails[]
  try {
    nodes = await ctx.cluster.details()
  } catch (error) {
    throw new TmError('TM_RM_UNAVAILABLE', `the shared store could not be read for the cluster's nodes: ${messageOf(error)}`)
  }
  return {
    store: 'postgres',
    nodes: nodes.map((n) => ({
      nodeId: n.nodeId,
      address: n.address,
      live: n.live,
      epoch: String(n.epoch),
      leaseLeftMs: n.leaseLeftMs,
      unfinishedTransactions: n.unfinished,
      takenOverBy: n.takenOverBy ?? '',
      takenOverAtUnixMs: String(n.takenOverAtMs ?? 0),
      timesTakenOver: String(n.timesTakenOver),
      thisNode: n.nodeId === me,
    })),
  }
}
