// The metrics and health HTTP port (node:http, apart from the gRPC port):
//   /metrics  Prometheus text format from Arbiter's own registry
//   /healthz  200 while the process is up
//   /readyz   200 once start-up recovery finished and while the decision log
//             is healthy; 503 otherwise (a load balancer stops sending work).
//             Either way the text names refused resources (resource-readiness.ts).
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { hostOf } from '../config.js'
import type { Logger } from '../logger.js'
import type { ArbiterMetrics } from './arbiter-metrics.js'

export interface MetricsServer {
  /** host:port actually bound (the port filled in when the config said 0). */
  readonly address: string
  close(): Promise<void>
}

export async function startMetricsServer(options: {
  listen: string
  metrics: ArbiterMetrics
  /** Why the node is not ready, or undefined when it is. */
  notReady: () => string | undefined
  /** What the node runs without although ready (refused resources), or undefined. */
  degraded?: () => string | undefined
  logger: Logger
}): Promise<MetricsServer> {
  const { metrics, notReady, logger } = options
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end()
      return
    }
    if (path === '/metrics') {
      metrics.registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': metrics.registry.contentType }).end(text),
        (error: unknown) => {
          logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'metrics collection failed')
          res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics collection failed\n')
        },
      )
      return
    }
    if (path === '/healthz') {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      return
    }
    if (path === '/readyz') {
      const why = notReady()
      const note = options.degraded?.()
      const text = `${why === undefined ? 'ready' : `not ready: ${why}`}${note === undefined ? '' : `; ${note}`}\n`
      res.writeHead(why === undefined ? 200 : 503, { 'content-type': 'text/plain' }).end(text)
      return
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics, /healthz or /readyz\n')
  })
  server.keepAliveTimeout = 5000
  const host = hostOf(options.listen)
  const port = Number(options.listen.slice(options.listen.lastIndexOf(':') + 1))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  }).catch((error: unknown) => {
    throw new Error(`cannot listen for metrics on ${options.listen}: ${error instanceof Error ? error.message : String(error)}`, { cause: error })
  })
  const bound = server.address() as AddressInfo
  const address = `${bound.family === 'IPv6' ? `[${bound.address}]` : bound.address}:${bound.port}`
  logger.info({ address }, 'metrics listening')
  return {
    address,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      }),
  }
}
