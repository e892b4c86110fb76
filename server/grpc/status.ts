// The server's one conversion from an error to a gRPC status. TmErrors keep
// their catalog status and travel with google.rpc.ErrorInfo (reason = the
// catalog code) in grpc-status-details-bin, so the client rebuilds the exact
// error. Anything else is a bug: INTERNAL, logged with its stack, and its
// text (which may hold driver details) is not sent.
import { Metadata, status as GrpcStatus, type StatusObject } from '@grpc/grpc-js'
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

/** google.rpc.Status as the generated types shape it (details: Any with type_url). */
export interface WireStatus {
  readonly code: number
  readonly message: string
  readonly details: { type_url: string; value: Buffer }[]
}

/** The status an error ends a call with: catalog code, bounded message, ErrorInfo (reason = catalog code) in details. */
export function toStatus(error: unknown, logger: Logger): WireStatus {
  const tmError = asTmError(error)
  if (tmError.code === 'TM_INTERNAL') logger.error({ err: error }, 'internal error')
  const errorMetadata = Object.fromEntries(Object.entries(tmError.metadata).map(([k, v]) => [k, boundedMessage(v)]))
  const info = ErrorInfoType.encode(
    ErrorInfoType.create({ reason: tmError.code, domain: ERROR_DOMAIN, metadata: { ...errorMetadata, retryable: String(tmError.retryable) } }),
  ).finish()
  return {
    code: tmError.grpcStatus,
    message: boundedMessage(tmError.message),
    details: [{ type_url: 'type.googleapis.com/google.rpc.ErrorInfo', value: Buffer.from(info) }],
  }
}

/** toStatus() as a unary call's error: the Status also travels whole in grpc-status-details-bin. */
export function toServiceError(error: unknown, logger: Logger): StatusObject {
  const status = toStatus(error, logger)
  const statusBytes = StatusType.encode(StatusType.create(status)).finish()
  const metadata = new Metadata()
  metadata.set('grpc-status-details-bin', Buffer.from(statusBytes))
  return { code: status.code, details: status.message, metadata }
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
