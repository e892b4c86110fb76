// The TM's spans (OpenTelemetry). A request continues its caller's trace
// (W3C `traceparent` in a unary call's metadata, or in the Session
// envelope); inside it, a managed branch's begin, statements, phase 1 per
// branch with its vote, the decision write and phase 2 per branch are spans
// of their own. Recovery and takeover passes are traces of their own.
//
// Off unless tracing is configured (tracing.ts enables it): every helper
// then calls straight through, so the commit path pays one boolean test.
import {
  context,
  createTraceState,
  isSpanContextValid,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Link,
  type Span,
} from '@opentelemetry/api'

let enabled = false
const tracer = () => trace.getTracer('arbiter')

/** Called once the tracer provider is registered (tracing.ts). */
export function enableSpans(on: boolean): void {
  enabled = on
}

export function spansEnabled(): boolean {
  return enabled
}

/** A caller's W3C trace context as it came (metadata or envelope); empty fields mean none. */
export interface TraceCarrier {
  readonly traceparent?: string | undefined
  readonly tracestate?: string | undefined
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/

/** The caller's context, or the root when it sent none or a malformed one (a bad header never fails a request). */
export function callerContext(carrier: TraceCarrier): Context {
  const match = carrier.traceparent ? TRACEPARENT.exec(carrier.traceparent.trim()) : null
  if (!match || match[1] === 'ff') return ROOT_CONTEXT
  const spanContext = {
    traceId: match[2]!,
    spanId: match[3]!,
    traceFlags: parseInt(match[4]!, 16) & 1,
    isRemote: true,
    ...(carrier.tracestate && { traceState: createTraceState(carrier.tracestate) }),
  }
  return isSpanContextValid(spanContext) ? trace.setSpanContext(ROOT_CONTEXT, spanContext) : ROOT_CONTEXT
}

/** A TransactionManager request: a SERVER span under the caller's context (rpc.* conventions). */
export function inRequestSpan<T>(method: string, carrier: TraceCarrier, fn: () => T): T {
  if (!enabled) return fn()
  return run(
    `arbiter.v1.TransactionManager/${method}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': 'arbiter.v1.TransactionManager', 'rpc.method': method } },
    callerContext(carrier),
    fn,
  )
}

/** A step inside the active span (a statement, a phase, the decision write). */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T): T {
  if (!enabled) return fn(NOOP)
  return run(name, { kind: SpanKind.INTERNAL, attributes }, context.active(), fn)
}

/**
 * A background pass (recovery, takeover): a trace of its own, never a child
 * of whatever ran before. `linkTo`: the W3C traceparents of the transactions
 * it acts for (as the decision log recorded them), so a viewer leads from
 * the recovery to the request that decided, and back.
 */
export function inRootSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => T, linkTo: readonly (string | undefined)[] = []): T {
  if (!enabled) return fn(NOOP)
  const links: Link[] = []
  for (const traceparent of linkTo) {
    const linked = traceparent === undefined ? undefined : trace.getSpanContext(callerContext({ traceparent }))
    if (linked) links.push({ context: linked })
  }
  return run(name, { kind: SpanKind.INTERNAL, attributes, links }, ROOT_CONTEXT, fn)
}

/**
 * The W3C traceparent of `span` when it is recorded (tracing on, sampled),
 * for the decision log to keep beside the decision; undefined otherwise, so
 * a node without tracing writes exactly what it wrote before.
 */
export function traceparentOf(span: Span): string | undefined {
  if (!enabled || !span.isRecording()) return undefined
  const { traceId, spanId, traceFlags } = span.spanContext()
  return `00-${traceId}-${spanId}-${(traceFlags & 0xff).toString(16).padStart(2, '0')}`
}

/** Sets an attribute on the active span (the gtrid once Begin named it, a vote). */
export function noteOnSpan(key: string, value: string | number | boolean): void {
  if (!enabled) return
  trace.getSpan(context.active())?.setAttribute(key, value)
}

const NOOP: Span = trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 })

/** Runs `fn` in a span; a promise it returns ends the span when it settles (and is handed back as the same type). */
function run<T>(name: string, options: { kind: SpanKind; attributes: Attributes; links?: Link[] }, parent: Context, fn: (span: Span) => T): T {
  const span = tracer().startSpan(name, options, parent)
  const ended = (error?: unknown): void => {
    if (error !== undefined) {
      const err = error instanceof Error ? error : new Error(typeof error === 'string' ? error : JSON.stringify(error))
      span.recordException(err)
      span.setStatus({ code: SpanStatusCode.ERROR, message: err.message })
      const code = (error as { code?: unknown }).code
      if (typeof code === 'string') span.setAttribute('arbiter.error_code', code)
    }
    span.end()
  }
  let result: T
  try {
    result = context.with(trace.setSpan(parent, span), () => fn(span))
  } catch (error) {
    ended(error)
    throw error
  }
  if (result instanceof Promise) {
    return result.then(
      (value: unknown) => {
        ended()
        return value
      },
      (error: unknown) => {
        ended(error)
        throw error
      },
    ) as T
  }
  ended()
  return result
}
