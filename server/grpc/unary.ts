// Wraps an async function as a grpc-js unary handler: errors become statuses
// through toServiceError, and a handler can never crash the process.
import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js'
import type { Logger } from '../logger.js'
import { toServiceError } from './status.js'

export function unary<Req, Res>(
  logger: Logger,
  method: string,
  fn: (request: Req, call: ServerUnaryCall<Req, Res>) => Promise<Res> | Res,
): handleUnaryCall<Req, Res> {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>) => {
    Promise.resolve()
      .then(() => fn(call.request, call))
      .then(
        (response) => callback(null, response),
        (error: unknown) => {
          logger.debug({ method, err: error instanceof Error ? error.message : String(error) }, 'call failed')
          callback(toServiceError(error, logger))
        },
      )
  }
}
