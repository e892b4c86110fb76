// ListMembers: where each node of the cluster is, for clients that spread
// transactions over nodes and send each request to the node that holds its
// transaction (the gtrid names it). A node on its own answers with itself.
import type { ListMembersResponse } from '../../proto/gen/arbiter/v1/ListMembersResponse.js'
import type { TransactionManagerHandlers } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import type { Member } from '../cluster/members.js'
import type { Logger } from '../logger.js'
import { unary } from './unary.js'
import { TmError } from '../../proto/errors.js'

export interface MembersSource {
  readonly nodeId: string
  /** This node's address as clients reach it (known once the port is bound). */
  readonly address: () => string
  /** The cluster's members from the shared store; absent on a node of its own. */
  readonly list?: () => Promise<Member[]>
}

export function listMembersHandler(source: MembersSource, logger: Logger): TransactionManagerHandlers['ListMembers'] {
  return unary(logger, 'ListMembers', async (): Promise<ListMembersResponse> => {
    if (!source.list) {
      return { nodeId: source.nodeId, members: [{ nodeId: source.nodeId, address: source.address(), live: true, epoch: '0', leaseLeftMs: 0, takenOverBy: '' }] }
    }
    let members: Member[]
    try {
      members = await source.list()
    } catch (error) {
      throw new TmError('TM_RM_UNAVAILABLE', `the shared store could not be read for the cluster's members: ${error instanceof Error ? error.message : String(error)}`)
    }
    return {
      nodeId: source.nodeId,
      members: members.map((m) => ({
        nodeId: m.nodeId,
        address: m.address,
        live: m.live,
        epoch: String(m.epoch),
        leaseLeftMs: m.leaseLeftMs,
        takenOverBy: m.takenOverBy ?? '',
      })),
    }
  })
}
