// Admin.ListResources: each configured resource with what its adapter says
// about its health; a resource that does not answer in time is unreachable.
import type { ListResourcesResponse } from '../../proto/gen/arbiter/v1/ListResourcesResponse.js'
import type { ResourceHealth as WireResourceHealth } from '../../proto/gen/arbiter/v1/ResourceHealth.js'
import { DEFAULT_RESOURCE_CALL_TIMEOUT_MS, messageOf, withTimeout, type AdminContext } from './admin-context.js'

export async function listResources(ctx: AdminContext): Promise<ListResourcesResponse> {
  const timeoutMs = ctx.config.resourceCallTimeoutMs ?? DEFAULT_RESOURCE_CALL_TIMEOUT_MS
  const resources = await Promise.all(
    ctx.resources.all().map(async (adapter): Promise<WireResourceHealth> => {
      const base = { name: adapter.name, kind: adapter.kind }
      if (!ctx.resources.isReady(adapter.name)) {
        return { ...base, reachable: false, error: ctx.resources.lastError(adapter.name) ?? 'not connected yet' }
      }
      try {
        const h = await withTimeout(adapter.health(), timeoutMs, `resource "${adapter.name}"`)
        return {
          ...base,
          reachable: h.reachable,
          error: h.error ?? '',
          preparedBranches: h.preparedBranches ?? 0,
          preparedHeadroom: h.preparedHeadroom ?? 0,
          poolInUse: h.poolInUse ?? 0,
          poolSize: h.poolSize ?? 0,
        }
      } catch (error) {
        return { ...base, reachable: false, error: messageOf(error) }
      }
    }),
  )
  return { resources }
}
