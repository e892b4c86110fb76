// Admin.ListResources: each configured resource with what its adapter says
// about its health; a resource that does not answer in time is unreachable,
// one whose server cannot serve Arbiter is refused (resource-registry.ts).
// What a resource did not tell (a kind without prepared-transaction
// headroom, anything of an unreachable one) is left out, not sent as 0.
import type { ListResourcesResponse } from '../../proto/gen/arbiter/v1/ListResourcesResponse.js'
import type { ResourceHealth as WireResourceHealth } from '../../proto/gen/arbiter/v1/ResourceHealth.js'
import { DEFAULT_RESOURCE_CALL_TIMEOUT_MS, messageOf, withTimeout, type AdminContext } from './admin-context.js'

export async function listResources(ctx: AdminContext): Promise<ListResourcesResponse> {
  const timeoutMs = ctx.config.resourceCallTimeoutMs ?? DEFAULT_RESOURCE_CALL_TIMEOUT_MS
  const resources = await Promise.all(
    ctx.resources.all().map(async (adapter): Promise<WireResourceHealth> => {
      const base = { name: adapter.name, kind: adapter.kind }
      const status = ctx.resources.status(adapter.name)
      if (status !== 'ready') {
        const error = ctx.resources.lastError(adapter.name) ?? 'not connected yet'
        return { ...base, reachable: false, state: status === 'refused' ? 'RESOURCE_STATE_REFUSED' : 'RESOURCE_STATE_UNREACHABLE', error }
      }
      try {
        const h = await withTimeout(adapter.health(), timeoutMs, `resource "${adapter.name}"`)
        return {
          ...base,
          reachable: h.reachable,
          state: h.reachable ? 'RESOURCE_STATE_READY' : 'RESOURCE_STATE_UNREACHABLE',
          error: h.error ?? '',
          ...(h.preparedBranches !== undefined && { preparedBranches: h.preparedBranches }),
          ...(h.preparedHeadroom !== undefined && { preparedHeadroom: h.preparedHeadroom }),
          ...(h.poolInUse !== undefined && { poolInUse: h.poolInUse }),
          ...(h.poolSize !== undefined && { poolSize: h.poolSize }),
        }
      } catch (error) {
        return { ...base, reachable: false, state: 'RESOURCE_STATE_UNREACHABLE', error: messageOf(error) }
      }
    }),
  )
  return { resources }
}
