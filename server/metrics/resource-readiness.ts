// What /readyz says about resources (issue #21, item 4). A refused resource
// (its server cannot serve Arbiter as configured, e.g. PostgreSQL with
// max_prepared_transactions = 0) does not make the node unready: readiness
// gates all traffic to the node, and the other resources still work; the
// refused one would be refused on every node alike. So /readyz stays 200
// and names it, as Admin.ListResources and the logs do.
import type { ResourceRegistry } from '../coordinator/resource-registry.js'

/** "without refused resource pg: …", or undefined when none is refused. */
export function refusedResourcesNote(resources: Pick<ResourceRegistry, 'refused'>): string | undefined {
  const refused = resources.refused()
  if (refused.length === 0) return undefined
  const list = refused.map((r) => `"${r.name}" (${r.reason})`).join('; ')
  return `without refused resource${refused.length > 1 ? 's' : ''} ${list}`
}
