// arbiter.v1.Admin: the operator's service (ARCHITECTURE.md, "The gRPC
// surface"). Each RPC's logic lives in server/admin/; this file only binds
// them to grpc-js and names the operator for the audit record.
import type { AdminHandlers } from '../../proto/gen/arbiter/v1/Admin.js'
import type { AdminContext } from '../admin/admin-context.js'
import { listInDoubt, runRecovery } from '../admin/in-doubt.js'
import { getTransaction, listTransactions } from '../admin/list-transactions.js'
import { resolveBranch } from '../admin/resolve-branch.js'
import { listResources } from '../admin/resources.js'
import { listNodes } from '../admin/nodes.js'
import { principalOf } from './auth-interceptor.js'
import { unary } from './unary.js'

/** The operator named in resolutions when auth is off. */
export const ANONYMOUS_OPERATOR = 'anonymous (auth off)'

export function adminHandlers(ctx: AdminContext): AdminHandlers {
  const { logger } = ctx
  return {
    ListTransactions: unary(logger, 'Admin.ListTransactions', (req) => listTransactions(ctx, req)),
    GetTransaction: unary(logger, 'Admin.GetTransaction', (req) => getTransaction(ctx, req.gtrid)),
    ListInDoubt: unary(logger, 'Admin.ListInDoubt', (req) => listInDoubt(ctx, req.resource)),
    RunRecovery: unary(logger, 'Admin.RunRecovery', (req) => runRecovery(ctx, req.resource)),
    ResolveBranch: unary(logger, 'Admin.ResolveBranch', (req, call) => {
      const operator = principalOf(call)?.name ?? `${ANONYMOUS_OPERATOR} from ${call.getPeer()}`
      return resolveBranch(ctx, req, operator)
    }),
    ListResources: unary(logger, 'Admin.ListResources', () => listResources(ctx)),
    ListNodes: unary(logger, 'Admin.ListNodes', () => listNodes(ctx)),
  }
}
