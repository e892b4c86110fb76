// Turns the TM's spans on (spans.ts) when tracing.otlpEndpoint is set: a
// tracer provider exporting OTLP/HTTP in batches, sampling new traces at
// tracing.samplingRatio and following a caller's decision, with the
// AsyncLocalStorage context manager so a request's span is the parent of
// the steps it awaits. The SDK is loaded only then: a node without tracing
// never imports it.
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { ArbiterConfig } from '../config.js'
import type { Logger } from '../logger.js'
import { enableSpans } from './spans.js'

export interface Tracing {
  /** Exports what is pending and turns spans off. */
  shutdown(): Promise<void>
}

/**
 * `extra`: a span processor of the caller's (tests use an in-memory
 * exporter); it turns tracing on without an endpoint.
 */
export async function startTracing(config: ArbiterConfig, logger: Logger, extra?: SpanProcessor): Promise<Tracing | undefined> {
  const { otlpEndpoint, samplingRatio, serviceName } = config.tracing
  if (otlpEndpoint === undefined && extra === undefined) return undefined
  const [{ NodeTracerProvider }, base, { resourceFromAttributes }] = await Promise.all([
    import('@opentelemetry/sdk-trace-node'),
    import('@opentelemetry/sdk-trace-base'),
    import('@opentelemetry/resources'),
  ])
  const processors: SpanProcessor[] = []
  if (otlpEndpoint !== undefined) {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http')
    processors.push(new base.BatchSpanProcessor(new OTLPTraceExporter({ url: otlpEndpoint })))
  }
  if (extra !== undefined) processors.push(extra)
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName, 'service.instance.id': config.nodeId }),
    sampler: new base.ParentBasedSampler({ root: new base.TraceIdRatioBasedSampler(samplingRatio) }),
    spanProcessors: processors,
  })
  provider.register()
  enableSpans(true)
  logger.info({ otlpEndpoint, samplingRatio }, 'tracing on')
  return {
    async shutdown() {
      enableSpans(false)
      await provider.shutdown().catch((error: unknown) => logger.warn({ err: String(error) }, 'tracing: spans not exported at shutdown'))
    },
  }
}
