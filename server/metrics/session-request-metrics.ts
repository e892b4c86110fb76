// arbiter_session_requests_total and arbiter_session_request_seconds: the
// calls that travel on a Session stream, counted per method and status code
// as grpc_server_handled_total counts unary calls (which sees the stream
// only once, as one long call).
import { Counter, Histogram, type Registry } from 'prom-client'
import { CALL_SECONDS_BUCKETS, grpcCodeName } from './grpc-metrics-interceptor.js'

/** Told of every answered Session request: its kind (SessionRequest's oneof name), status code and duration. */
export type SessionRequestObserver = (kind: string, code: number, seconds: number) => void

export function createSessionRequestMetrics(registry: Registry): SessionRequestObserver {
  const registers = [registry]
  const requests = new Counter({
    name: 'arbiter_session_requests_total',
    help: 'Requests answered on Session streams, by method (the unary twin\'s name) and status code',
    labelNames: ['method', 'code'],
    registers,
  })
  const seconds = new Histogram({
    name: 'arbiter_session_request_seconds',
    help: 'Time to answer a request on a Session stream, by method',
    labelNames: ['method'],
    buckets: CALL_SECONDS_BUCKETS,
    registers,
  })
  // Label children, made once per method (and code).
  const counters = new Map<string, Counter.Internal>()
  const histograms = new Map<string, Histogram.Internal<'method'>>()
  return (kind, code, elapsed) => {
    const method = kind.charAt(0).toUpperCase() + kind.slice(1)
    const key = `${method}|${code}`
    let counter = counters.get(key)
    if (!counter) counters.set(key, (counter = requests.labels(method, grpcCodeName(code))))
    let histogram = histograms.get(method)
    if (!histogram) histograms.set(method, (histogram = seconds.labels(method)))
    counter.inc()
    histogram.observe(elapsed)
  }
}
