// The server interceptor that enforces token auth on every call (grpc-node
// examples/interceptors). Health checks and reflection pass without a token
// (ecosystem.md, pitfall 2). The caller's identity reaches the handlers in
// call metadata under PRINCIPAL_KEY, set here after any client-sent value
// under that key was removed, so a caller cannot name itself.
import * as grpc from '@grpc/grpc-js'
import { TmError } from '../../proto/errors.js'
import type { Logger } from '../logger.js'
import { bearerSecret, requiredRoles, unauthenticatedMessage, type Principal, type TokenAuthenticator } from './auth.js'
import { toServiceError } from './status.js'

export const PRINCIPAL_KEY = 'x-arbiter-principal'
export const ROLE_KEY = 'x-arbiter-role'

/** Who made the call, as the interceptor established it; undefined when auth is off. */
export function principalOf(call: { readonly metadata: grpc.Metadata }): Principal | undefined {
  const [name] = call.metadata.get(PRINCIPAL_KEY)
  const [role] = call.metadata.get(ROLE_KEY)
  if (typeof name !== 'string' || (role !== 'application' && role !== 'admin')) return undefined
  return { name, role }
}

export function createAuthInterceptor(auth: TokenAuthenticator, logger: Logger): grpc.ServerInterceptor {
  return (method, call) => {
    const refuse = (error: TmError): void => {
      logger.warn({ method: method.path, peer: call.getPeer(), code: error.code }, error.message)
      call.sendStatus(toServiceError(error, logger))
    }
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMetadata((metadata, next) => {
        metadata.remove(PRINCIPAL_KEY)
        metadata.remove(ROLE_KEY)
        const roles = requiredRoles(method.path)
        if (!auth.enabled || roles === undefined) {
          next(metadata)
          return
        }
        const values = metadata.get('authorization')
        const header = values.length === 1 && typeof values[0] === 'string' ? values[0] : undefined
        const secret = bearerSecret(header)
        const principal = secret === undefined ? undefined : auth.authenticate(secret)
        if (!principal) {
          refuse(
            new TmError(
              'TM_UNAUTHENTICATED',
              unauthenticatedMessage(header),
            ),
          )
          return
        }
        if (!roles.includes(principal.role)) {
          refuse(new TmError('TM_PERMISSION_DENIED', `"${principal.name}" (role ${principal.role}) may not call ${method.path}: needs role ${roles.join(' or ')}`))
          return
        }
        metadata.set(PRINCIPAL_KEY, principal.name)
        metadata.set(ROLE_KEY, principal.role)
        next(metadata)
      })
      .build()
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build()
    return new grpc.ServerInterceptingCall(call, responder)
  }
}
