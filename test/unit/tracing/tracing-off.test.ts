// Tracing costs nothing measurable when nobody asked for it: with no tracer
// provider registered, the client sends no trace header and sets no active
// context, and the TM's span helpers call straight through. The W3C header
// a caller sends is parsed strictly: a malformed one starts a new trace, it
// never fails the request.
import { context, trace } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { activeTraceHeaders, inClientSpan } from '../../../client/tracing.js'
import { callerContext, inRequestSpan, inRootSpan, inSpan, spansEnabled, traceparentOf } from '../../../server/tracing/spans.js'

describe('with no tracer provider (the default)', () => {
  it('the client sends no trace context and leaves the active context alone', async () => {
    const seen = await inClientSpan('arbiter.transaction', {}, async () => ({ headers: activeTraceHeaders(), span: trace.getSpan(context.active()) }))
    expect(seen).toEqual({ headers: undefined, span: undefined })
  })

  it("the TM's helpers call straight through: the same value, synchronously when the work is", () => {
    expect(spansEnabled()).toBe(false)
    expect(inSpan('arbiter.statement', {}, () => 42)).toBe(42)
    expect(inRequestSpan('Begin', { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }, () => 'x')).toBe('x')
    // Nothing for the decision log to keep: an untraced decision record is what it was before tracing.
    expect(inSpan('arbiter.decision.write', {}, (span) => traceparentOf(span))).toBeUndefined()
    expect(inRootSpan('arbiter.recovery.commit', {}, () => 'y', ['00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'])).toBe('y')
  })
})

describe("a caller's traceparent", () => {
  const valid = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'
  it('is the remote parent, sampled flag and tracestate kept', () => {
    const c = trace.getSpanContext(callerContext({ traceparent: valid, tracestate: 'vendor=x' }))
    expect(c).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1, isRemote: true })
    expect(c?.traceState?.get('vendor')).toBe('x')
  })

  it.each([
    ['absent', undefined],
    ['garbage', 'not-a-traceparent'],
    ['all-zero trace id', '00-00000000000000000000000000000000-b7ad6b7169203331-01'],
    ['version ff', 'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'],
    ['upper case', valid.toUpperCase()],
  ])('%s: a new trace (no parent), never an error', (_what, traceparent) => {
    expect(trace.getSpanContext(callerContext({ traceparent }))).toBeUndefined()
  })
})
