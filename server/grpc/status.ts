// The server's one conversion from an error to a gRPC status. TmErrors keep
// their catalog status and travel with google.rpc.ErrorInfo (reason = the
// catalog code) in grpc-status-details-bin, so the client rebuilds the exact
// error. Anything else is a bug: INTERNAL, logged with its stack, and its
// text (which may hold driver details) is not sent.
import { Metadata, status as GrpcStatus, type ServiceError } from '@grpc/grpc-js'
import protobuf from 'protobufjs'
import { join } from 'node:path'
import { AdapterError } from '../../adapters/types.js'
import { ERROR_DOMAIN, TmError } from '../../proto/errors.js'
import { PROTO_ROOT } from '../../proto/load.js'
import type { Logger } from '../logger.js'

const root = protobuf.loadSync([join(PROTO_ROOT, 'google/rpc/status.proto'), join(PROTO_ROOT, 'google/rpc/error_details.proto')])
const StatusType = root.lookupType('google.rpc.Status')
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo')

/**
 * The longest message sent on the wire. Messages can echo caller input (a
 * malformed gtrid, a resource name); unbounded, a 200 KB gtrid became a 200 KB
 * grpc-message trailer (twice, with the details), over HTTP/2's header-list
 * limits, and the client's connection broke for every call on it.
 */
export const MAX_STATUS_MESSAGE_CHARS = 1024

export function boundedMessage(message: string): string {
  if (message.length <= MAX_STATUS_MESSAGE_CHARS) return message
  return `${message.slice(0, MAX_STATUS_MESSAGE_CHARS)}… (${message.length - MAX_STATUS_MESSAGE_CHARS} more characters cut)`
}

export function toServiceError(error: unknown, logger: Logger): Partial<ServiceError> {
  const tmError = asTmError(error)
  if (tmError.code === 'TM_INTERNAL') logger.error({ err: error }, 'internal error')
  const message = boundedMessage(tmError.message)
  const errorMetadata = Object.fromEntries(Object.entries(tmError.metadata).map(([k, v]) => [k, boundedMessage(v)]))
  const info = ErrorInfoType.encode(
    ErrorInfoType.create({ reason: tmError.code, domain: ERROR_DOMAIN, metadata: { ...errorMetadata, retryable: String(tmError.retryable) } }),
  ).finish()
  const statusBytes = StatusType.encode(
    StatusType.create({
      code: tmError.grpcStatus,
      message,
      details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: info }],
    }),
  ).finish()
  const metadata = new Metadata()
  metadata.set('grpc-status-details-bin', Buffer.from(statusBytes))
  return { code: tmError.grpcStatus, details: message, metadata }
}

function asTmError(error: unknown): TmError {
  if (error instanceof TmError) return error
  if (error instanceof AdapterError) {
    // An adapter error that reached the edge unhandled: its class says what the caller can do.
    const code = error.errorClass === 'retryable' ? 'TM_RM_UNAVAILABLE' : error.errorClass === 'fatal' ? 'TM_INTERNAL' : 'TM_TX_ABORTED'
    return new TmError(code, `resource "${error.resource}": ${error.message}`, { cause: error })
  }
  return new TmError('TM_INTERNAL', 'internal error (logged on the server)', { cause: error })
}

export { GrpcStatus }
