// What /readyz says about resources (issue #21, item 4). A refused resource
// (its server cannot serve Arbiter as configured, e.g. PostgreSQL with
// max_prepared_transactions = 0) does not make the node unready: readiness
// gates all traffic to the node, and the other resources still work; the
// refused one would be refused on every node alike. So /readyz stays 200
// and names it, as Admin.ListResources and the logs do.
//
// Except a resource refused because another live TM holds this node's id
// there (node-id-claim.ts): that is this node's own misconfiguration (a
// duplicate), every call touching it fails, and a balancer should send the
// work to the node that holds the id. Then /readyz is 503.
import type { ResourceRegistry } from '../coordinator/resource-registry.js'

/** "without refused resource pg: …", or undefined when none is refused. */
export function refusedResourcesNote(resources: Pick<ResourceRegistry, 'refused'>): string | undefined {
  const refused = resources.refused()
  if (refused.length === 0) return undefined
  const list = refused.map((r) => `"${r.name}" (${r.reason})`).join('; ')
  return `without refused resource${refused.length > 1 ? 's' : ''} ${list}`
}

/** Why the node is not ready because another live TM holds its node id, or undefined. */
export function nodeIdConflictNote(resources: Pick<ResourceRegistry, 'nodeIdConflicts'>): string | undefined {
  const conflicts = resources.nodeIdConflicts()
  if (conflicts.length === 0) return undefined
  return `another live TM holds this node's id at ${conflicts.map((c) => `"${c.name}"`).join(', ')}: ${conflicts[0]!.reason}`
}
