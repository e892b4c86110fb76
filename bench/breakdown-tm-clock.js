// Preloaded into the TM by the benchmark's per-phase breakdown only
// (breakdown.ts, NODE_OPTIONS=--import): the OpenTelemetry SDK stamps a
// span's start with Date.now(), whole milliseconds, and measures its duration
// from there with performance.now(); the TM's steps last fractions of a
// millisecond, so this restamps each span's start from the same
// performance.now() reading the SDK took, at the microsecond (the end follows,
// start + duration). The bench's own spans get the same treatment, so both
// processes' spans sit on one clock (performance.timeOrigin + now).
// Plain JavaScript: it loads before tsx does.
import { createRequire } from 'node:module'
import { performance } from 'node:perf_hooks'

const require = createRequire(import.meta.url)
const { BatchSpanProcessor } = require('@opentelemetry/sdk-trace-base')

const originNs = BigInt(Math.trunc(performance.timeOrigin)) * 1_000_000n + BigInt(Math.round((performance.timeOrigin % 1) * 1e6))

/** performance.now() milliseconds → [seconds, nanoseconds] since the epoch. */
function preciseHrTime(perfMs) {
  const ns = originNs + BigInt(Math.round(perfMs * 1e6))
  return [Number(ns / 1_000_000_000n), Number(ns % 1_000_000_000n)]
}

const onStart = BatchSpanProcessor.prototype.onStart
BatchSpanProcessor.prototype.onStart = function (span, parentContext) {
  const started = span._performanceStartTime
  if (typeof started === 'number') span.startTime = preciseHrTime(started)
  return onStart.call(this, span, parentContext)
}
