// OpenTelemetry for applications, through @opentelemetry/api only: the
// client forces no SDK on anyone. transaction() and run() each get a span
// (a child of the application's active span), and every request they send
// carries its W3C trace context, so the TM's spans join the same trace.
//
// Cost when the application registers no tracer provider: the API's no-op
// tracer hands back a span with an invalid context; nothing is then set as
// active, and no request carries a header.
import { context, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api'

const tracer = trace.getTracer('arbiter-client')

/** The caller's trace context for a request: W3C `traceparent` (and `tracestate`). */
export interface TraceHeaders {
  readonly traceparent: string
  readonly tracestate?: string
}

/**
 * Runs `fn` inside a span named `name` (a child of the active span), the
 * span active for everything `fn` awaits; ends it with the outcome.
 */
export async function inClientSpan<T>(name: string, attributes: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes: { 'rpc.system': 'grpc', 'rpc.service': 'arbiter.v1.TransactionManager', ...attributes } })
  if (!isSpanContextValid(span.spanContext())) return fn() // no tracer provider: nothing to record or send
  try {
    const result = await context.with(trace.setSpan(context.active(), span), fn)
    span.setStatus({ code: SpanStatusCode.OK })
    return result
  } catch (error) {
    recordFailure(span, error)
    throw error
  } finally {
    span.end()
  }
}

/** The gtrid once it is known (a transaction named by Begin learns it after the span began). */
export function noteGtrid(gtrid: string): void {
  const span = trace.getSpan(context.active())
  if (span?.isRecording()) span.setAttribute('arbiter.gtrid', gtrid)
}

/** The active span's context as W3C headers; undefined when there is none (the common, untraced case). */
export function activeTraceHeaders(): TraceHeaders | undefined {
  const span = trace.getSpan(context.active())
  if (span === undefined) return undefined
  const c = span.spanContext()
  if (!isSpanContextValid(c)) return undefined
  const traceparent = `00-${c.traceId}-${c.spanId}-${(c.traceFlags & 0xff).toString(16).padStart(2, '0')}`
  const tracestate = c.traceState?.serialize()
  return tracestate ? { traceparent, tracestate } : { traceparent }
}

function recordFailure(span: Span, error: unknown): void {
  const err = error instanceof Error ? error : new Error(String(error))
  span.recordException(err)
  span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
  const code = (error as { code?: unknown }).code
  if (typeof code === 'string') span.setAttribute('arbiter.error_code', code)
}
