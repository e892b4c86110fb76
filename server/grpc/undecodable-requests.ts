// Bytes that are not a valid request message get INVALID_ARGUMENT saying so,
// like any other bad input. grpc-js answers a request its deserializer
// throws on with INTERNAL, which tells the caller "a server bug". So the
// services' deserializers hand back an UndecodableRequest instead of
// throwing, and an interceptor ends such a call (or Session stream) before
// any handler sees the message.
import * as grpc from '@grpc/grpc-js'
import { TmError } from '../../proto/errors.js'
import type { Logger } from '../logger.js'
import { toServiceError } from './status.js'

/** What a tolerant deserializer returns for bytes it could not decode. */
export class UndecodableRequest {
  constructor(
    readonly path: string,
    readonly reason: string,
  ) {}
}

/** The service with every request deserializer returning UndecodableRequest instead of throwing. */
export function withTolerantDeserializers(service: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods = Object.entries(service).map(([name, method]) => {
    const decode = method.requestDeserialize
    const requestDeserialize = (bytes: Buffer): unknown => {
      try {
        return decode(bytes)
      } catch (error) {
        return new UndecodableRequest(method.path, error instanceof Error ? error.message : String(error))
      }
    }
    return [name, { ...method, requestDeserialize }]
  })
  return Object.fromEntries(methods) as grpc.ServiceDefinition
}

/** Ends a call whose request could not be decoded with INVALID_ARGUMENT. */
export function createUndecodableRequestInterceptor(logger: Logger): grpc.ServerInterceptor {
  return (_method, call) => {
    const listener = new grpc.ServerListenerBuilder()
      .withOnReceiveMessage((message: unknown, next) => {
        if (!(message instanceof UndecodableRequest)) {
          next(message)
          return
        }
        const error = new TmError('TM_INVALID_ARGUMENT', `the request to ${message.path} is not a valid protobuf message: ${message.reason}`)
        logger.debug({ method: message.path, peer: call.getPeer() }, error.message)
        call.sendStatus(toServiceError(error, logger))
      })
      .build()
    const responder = new grpc.ResponderBuilder().withStart((next) => next(listener)).build()
    return new grpc.ServerInterceptingCall(call, responder)
  }
}
