// grpc_server_handled_total and grpc_server_handling_seconds (the
// go-grpc-prometheus names) from a server interceptor. It must come first in
// the server's interceptor list: grpc-js wraps later interceptors around
// earlier ones, so statuses that the auth interceptor sends on its own
// (UNAUTHENTICATED, PERMISSION_DENIED) pass through this one too.
import * as grpc from '@grpc/grpc-js'
import { Counter, Histogram, type Registry } from 'prom-client'

/** Buckets (seconds) of the time to answer a call or a Session request. */
export const CALL_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
const CODE_NAMES = Object.fromEntries(Object.entries(grpc.status).filter(([, v]) => typeof v === 'number').map(([k, v]) => [v, k])) as Record<
  number,
  string
>

/** A gRPC status code's name ('NOT_FOUND'), the label value of a code. */
export function grpcCodeName(code: number): string {
  return CODE_NAMES[code] ?? String(code)
}

export function createGrpcMetricsInterceptor(registry: Registry): grpc.ServerInterceptor {
  const registers = [registry]
  const handled = new Counter({
    name: 'grpc_server_handled_total',
    help: 'RPCs completed on the server, by status code',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method', 'grpc_code'],
    registers,
  })
  const handling = new Histogram({
    name: 'grpc_server_handling_seconds',
    help: 'Time to answer an RPC, by method',
    labelNames: ['grpc_type', 'grpc_service', 'grpc_method'],
    buckets: CALL_SECONDS_BUCKETS,
    registers,
  })
  // Label children, created once per method (and code).
  const handledChildren = new Map<string, Counter.Internal>()
  const handlingChildren = new Map<string, Histogram.Internal<'grpc_type' | 'grpc_service' | 'grpc_method'>>()

  return (method, call) => {
    const started = performance.now()
    const responder = new grpc.ResponderBuilder()
      .withSendStatus((status, next) => {
        const key = `${method.path}|${status.code}`
        let counter = handledChildren.get(key)
        let histogram = handlingChildren.get(method.path)
        if (!counter || !histogram) {
          const slash = method.path.lastIndexOf('/')
          const service = method.path.slice(1, slash)
          const name = method.path.slice(slash + 1)
          const type = method.requestStream ? (method.responseStream ? 'bidi_stream' : 'client_stream') : method.responseStream ? 'server_stream' : 'unary'
          counter ??= handled.labels(type, service, name, grpcCodeName(status.code))
          histogram ??= handling.labels(type, service, name)
          handledChildren.set(key, counter)
          handlingChildren.set(method.path, histogram)
        }
        counter.inc()
        histogram.observe((performance.now() - started) / 1000)
        next(status)
      })
      .build()
    return new grpc.ServerInterceptingCall(call, responder)
  }
}
