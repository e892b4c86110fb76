// Wires one TM node together and runs its life cycle. Start-up order matters:
// open the decision log, connect the resources, run recovery, and only then
// open the gRPC port, so no Commit can race the first recovery pass. The
// metrics/health HTTP port opens first, so /healthz answers (and /readyz
// says "not ready") while recovery runs.
import { join } from 'node:path'
import { createAdapter } from '../adapters/index.js'
import type { ResourceAdapter } from '../adapters/types.js'
import { ConfigError, hostOf, isLoopbackListen, resolveResourceUrl, type ArbiterConfig } from './config.js'
import { sourceProblems } from './config/sources.js'
import { Coordinator } from './coordinator/coordinator.js'
import { ResourceRegistry } from './coordinator/resource-registry.js'
import { lockDataDir } from './data-dir-lock.js'
import { configureFailpoints } from './failpoints.js'
import { bind, buildGrpcServer, TM_SERVICE, ADMIN_SERVICE } from './grpc/grpc-server.js'
import { transactionManagerHandlers } from './grpc/transaction-manager-service.js'
import { adminHandlers } from './grpc/admin-service.js'
import { TokenAuthenticator } from './grpc/auth.js'
import { createAuthInterceptor } from './grpc/auth-interceptor.js'
import { serverCredentials } from './grpc/tls.js'
import { ArbiterMetrics } from './metrics/arbiter-metrics.js'
import { createGrpcMetricsInterceptor } from './metrics/grpc-metrics-interceptor.js'
import { createSessionRequestMetrics } from './metrics/session-request-metrics.js'
import { startMetricsServer, type MetricsServer } from './metrics/metrics-server.js'
import { refusedResourcesNote } from './metrics/resource-readiness.js'
import { registerCallerMetrics } from './metrics/caller-metrics.js'
import { FileDecisionLog } from './log/file-decision-log.js'
import type { DecisionLog } from './log/decision-log.js'
import { createLogger, maskUrl, type Logger } from './logger.js'
import { Recovery } from './recovery/recovery.js'

export interface ArbiterServer {
  /** The bound gRPC port (useful with a listen address ending in ":0"). */
  readonly port: number
  readonly address: string
  readonly coordinator: Coordinator
  readonly recovery: Recovery
  readonly log: DecisionLog
  readonly resources: ResourceRegistry
  readonly logger: Logger
  readonly metrics: ArbiterMetrics
  /** host:port of the metrics/health HTTP port; undefined when metrics.listen is ''. */
  readonly metricsAddress: string | undefined
  /** Graceful: no new transactions, commits in flight finish (bounded by shutdownGraceMs), then exit. */
  stop(): Promise<void>
}

export interface StartOptions {
  readonly logger?: Logger
  /** Adapters to use instead of building them from config.resources (tests). */
  readonly adapters?: readonly ResourceAdapter[]
}

export async function startArbiterServer(config: ArbiterConfig, options: StartOptions = {}): Promise<ArbiterServer> {
  const logger = options.logger ?? createLogger({ level: process.env.ARBITER_LOG_LEVEL ?? config.logLevel })
  const metrics = new ArbiterMetrics()
  const readiness: { ready: boolean; log?: DecisionLog; resources?: ResourceRegistry } = { ready: false }
  const metricsServer =
    config.metrics.listen === ''
      ? undefined
      : await startMetricsServer({
          listen: config.metrics.listen,
          metrics,
          logger,
          notReady: () => {
            if (!readiness.ready) return 'start-up recovery has not finished'
            if (readiness.log?.healthy() !== true) return 'the decision log has failed'
            return undefined
          },
          degraded: () => (readiness.resources ? refusedResourcesNote(readiness.resources) : undefined),
        })
  try {
    return await startCore(config, options, logger, metrics, metricsServer, readiness)
  } catch (error) {
    metrics.stop()
    await metricsServer?.close()
    throw error
  }
}

async function startCore(
  config: ArbiterConfig,
  options: StartOptions,
  logger: Logger,
  metrics: ArbiterMetrics,
  metricsServer: MetricsServer | undefined,
  readiness: { ready: boolean; log?: DecisionLog; resources?: ResourceRegistry },
): Promise<ArbiterServer> {
  if (config.failpoints) {
    configureFailpoints(config.failpoints)
    logger.warn({ failpoints: config.failpoints }, 'fail points are ON: this node will crash or stall on purpose')
  }
  // What the config points at (URL variables and files, token secrets, TLS
  // files) is checked before anything is opened: a problem is a ConfigError
  // naming the field, as loadConfig reports it (a caller may skip loadConfig).
  const problems = sourceProblems(options.adapters ? { ...config, resources: [] } : config, process.env)
  if (problems.length > 0) throw ConfigError.of(problems, undefined)
  const resourceUrls = options.adapters ? [] : config.resources.map((r, i) => resolveResourceUrl(r, process.env, i))
  const auth = new TokenAuthenticator(config.auth.tokens)
  if (!auth.enabled) logger.warn('auth is OFF (no auth.tokens configured): every caller may use every service, Admin included')
  // TLS files are read now too: a missing certificate stops start-up before anything is touched.
  const credentials = serverCredentials(config.tls)
  const loopback = isLoopbackListen(config.listen)
  if (!config.tls && !auth.enabled && !loopback) {
    // parseConfig only lets this through with allowInsecureNonLoopback.
    logger.warn(
      { listen: config.listen },
      '!!! INSECURE: listening on a non-loopback address with neither TLS nor tokens (allowInsecureNonLoopback): ' +
        'anyone who reaches this port can commit, roll back and resolve transactions !!!',
    )
  } else if (!config.tls && auth.enabled && !loopback) {
    logger.warn({ listen: config.listen }, 'tokens travel in plaintext (no tls configured) on a non-loopback address: configure tls')
  }
  if (config.tls) logger.info({ mutual: config.tls.requireClientCert }, 'gRPC port uses TLS')
  const unlock = lockDataDir(config.dataDir)
  // The commit delay counts the coordinator's transactions in progress, which exist only once it does.
  let liveTransactions = (): number => 0
  const log = new FileDecisionLog({
    dir: join(config.dataDir, 'log'),
    segmentBytes: config.log.segmentBytes,
    onBatch: (records) => metrics.logBatch(records),
    ...(config.log.commitDelayMs > 0 && {
      commitDelay: {
        maxDelayMs: config.log.commitDelayMs,
        minSiblings: config.log.commitSiblings,
        batchFraction: config.log.commitBatchFraction,
        siblings: () => liveTransactions(),
      },
    }),
  })
  try {
    await log.open()
  } catch (error) {
    unlock()
    throw error
  }
  logger.info({ dataDir: config.dataDir, unfinished: log.unfinished().length }, 'decision log open')

  const adapters =
    options.adapters ??
    config.resources.map((r, i) => {
      const url = resourceUrls[i]!
      logger.info({ resource: r.name, kind: r.kind, url: maskUrl(url), poolSize: r.poolSize }, 'resource configured')
      return createAdapter({ name: r.name, kind: r.kind, url, poolSize: r.poolSize, connectTimeoutMs: r.connectTimeoutMs })
    })
  const resources = new ResourceRegistry(adapters, logger)
  readiness.resources = resources
  await resources.initAll(5000)

  const coordinator = new Coordinator({
    config: {
      nodeId: config.nodeId,
      defaultTimeoutMs: config.transactions.defaultTimeoutMs,
      maxTimeoutMs: config.transactions.maxTimeoutMs,
      localBranchGraceMs: config.transactions.localBranchGraceMs,
      retentionMs: config.transactions.retentionMs,
      maxRetained: config.transactions.maxRetained,
      limits: config.limits,
      // Each token is a caller with its own limits; without tokens there is no caller to tell apart.
      ...(config.auth.tokens.length > 0 && {
        callers: { nodeMaxActiveTransactions: config.limits.maxActiveTransactions, perToken: config.limits.perToken, tokens: config.auth.tokens },
      }),
    },
    resources,
    log,
    logger,
    observer: metrics,
  })
  liveTransactions = () => coordinator.inProgressCount
  if (coordinator.callerLimits) registerCallerMetrics(metrics.registry, coordinator.callerLimits)
  const recovery = new Recovery({
    coordinator,
    resources,
    log,
    logger,
    config: { nodeId: config.nodeId, ...config.recovery },
    onScan: (report) => metrics.recoveryPass(report),
  })
  metrics.attach({ coordinator, log, resources, stuckAfterMs: config.admin.stuckAfterMs }, config.metrics.resourceRefreshMs)
  const firstPass = await recovery.scan()
  logger.info({ steps: firstPass.steps.length, unreachable: Object.keys(firstPass.unreachable) }, 'start-up recovery done')
  recovery.start()

  const tm = transactionManagerHandlers(coordinator, logger, config.limits, createSessionRequestMetrics(metrics.registry))
  const { server, health } = buildGrpcServer({
    tm: tm.handlers,
    admin: adminHandlers({
      coordinator,
      recovery,
      log,
      resources,
      logger,
      config: { nodeId: config.nodeId, stuckAfterMs: config.admin.stuckAfterMs },
    }),
    // Metrics first: grpc-js wraps later interceptors around earlier ones, so auth's refusals are counted too.
    interceptors: [createGrpcMetricsInterceptor(metrics.registry), createAuthInterceptor(auth, logger)],
    maxMessageBytes: config.limits.maxMessageBytes,
    logger,
  })
  let port: number
  try {
    port = await bind(server, config.listen, credentials)
  } catch (error) {
    recovery.stop()
    await coordinator.shutdown(0)
    await resources.closeAll()
    await log.close()
    unlock()
    throw new Error(`cannot listen on ${config.listen}: ${(error as Error).message}`, { cause: error })
  }
  for (const service of ['', TM_SERVICE, ADMIN_SERVICE]) health.setStatus(service, 'SERVING')
  const host = hostOf(config.listen)
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  readiness.log = log
  readiness.ready = true
  logger.info({ address, nodeId: config.nodeId, pid: process.pid, tls: config.tls !== undefined, auth: auth.enabled }, 'arbiter listening')

  let stopping: Promise<void> | undefined
  return {
    port,
    address,
    coordinator,
    recovery,
    log,
    resources,
    logger,
    metrics,
    metricsAddress: metricsServer?.address,
    stop: () =>
      (stopping ??= (async () => {
        readiness.ready = false
        for (const service of ['', TM_SERVICE, ADMIN_SERVICE]) health.setStatus(service, 'NOT_SERVING')
        recovery.stop()
        const drained = coordinator.shutdown(config.shutdownGraceMs)
        tm.sessions.closeAll()
        await new Promise<void>((resolve) => {
          // An open health Watch stream would keep tryShutdown waiting forever.
          const force = setTimeout(() => {
            server.forceShutdown()
            resolve()
          }, config.shutdownGraceMs + 500)
          server.tryShutdown(() => {
            clearTimeout(force)
            resolve()
          })
        })
        await drained
        await resources.closeAll()
        await log.close()
        unlock()
        metrics.stop()
        await metricsServer?.close()
        logger.info('arbiter stopped')
      })()),
  }
}
