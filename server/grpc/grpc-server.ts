// The gRPC server: arbiter.v1 services, grpc.health.v1 and server reflection
// (so generic tools like grpcurl work).
import * as grpc from '@grpc/grpc-js'
import { ReflectionService } from '@grpc/reflection'
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check'
import * as protoLoader from '@grpc/proto-loader'
import { loadArbiterProto } from '../../proto/load.js'
import type { TransactionManagerHandlers } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import type { AdminHandlers } from '../../proto/gen/arbiter/v1/Admin.js'
import type { Logger } from '../logger.js'
import { createUndecodableRequestInterceptor, withTolerantDeserializers } from './undecodable-requests.js'

export const TM_SERVICE = 'arbiter.v1.TransactionManager'
export const ADMIN_SERVICE = 'arbiter.v1.Admin'

export interface GrpcServerParts {
  readonly server: grpc.Server
  readonly health: HealthImplementation
}

export function buildGrpcServer(options: {
  tm: TransactionManagerHandlers
  admin?: AdminHandlers
  maxMessageBytes: number
  /** Pings to every client connection (config keepalive). */
  keepalive: { readonly timeMs: number; readonly timeoutMs: number }
  interceptors?: grpc.ServerInterceptor[]
  logger: Logger
}): GrpcServerParts {
  const { definition, proto } = loadArbiterProto()
  const server = new grpc.Server({
    'grpc.max_receive_message_length': options.maxMessageBytes,
    'grpc.max_send_message_length': options.maxMessageBytes,
    'grpc.keepalive_time_ms': options.keepalive.timeMs,
    'grpc.keepalive_timeout_ms': options.keepalive.timeoutMs,
    // Last: undecodable requests are refused after auth and counted by metrics like any other refusal.
    interceptors: [...(options.interceptors ?? []), createUndecodableRequestInterceptor(options.logger)],
  })
  server.addService(withTolerantDeserializers(proto.arbiter.v1.TransactionManager.service), options.tm)
  if (options.admin) server.addService(withTolerantDeserializers(proto.arbiter.v1.Admin.service), options.admin)
  const health = new HealthImplementation({ '': 'NOT_SERVING', [TM_SERVICE]: 'NOT_SERVING', [ADMIN_SERVICE]: 'NOT_SERVING' })
  health.addToServer(server)
  const healthDefinition = protoLoader.loadSync(healthProtoPath, { keepCase: true })
  new ReflectionService({ ...definition, ...healthDefinition }).addToServer(server)
  return { server, health }
}

export function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (error, port) => (error ? reject(error) : resolve(port)))
  })
}
