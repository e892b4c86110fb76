// Wires one TM node together and runs its life cycle. Start-up order matters:
// open the decision log, connect the resources, run recovery, and only then
// open the gRPC port, so no Commit can race the first recovery pass. The
// metrics/health HTTP port opens first, so /healthz answers (and /readyz
// says "not ready") while recovery runs.
import { resolve } from 'node:path'
import { hostname } from 'node:os'
import { createAdapter } from '../adapters/index.js'
import type { ResourceAdapter } from '../adapters/types.js'
import { ConfigError, hostOf, isLoopbackListen, resolveResourceUrl, type ArbiterConfig } from './config.js'
import { sourceProblems } from './config/sources.js'
import { Coordinator } from './coordinator/coordinator.js'
import { ResourceRegistry } from './coordinator/resource-registry.js'
import { lockDataDir } from './data-dir-lock.js'
import { FileDecisionLog } from './log/file-decision-log.js'
import { checkDataDirNode, rememberDataDirNode } from './data-dir-node.js'
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
import { nodeIdConflictNote, refusedResourcesNote } from './metrics/resource-readiness.js'
import { strandedDecisions, strandedProblem } from './recovery/stranded-decisions.js'
import { registerCallerMetrics } from './metrics/caller-metrics.js'
import { registerClusterMetrics, registerNodeInfo } from './metrics/cluster-metrics.js'
import { openDecisionLog, type OpenedLog } from './log/open-decision-log.js'
import type { DecisionLog } from './log/decision-log.js'
import { createLogger, maskUrl, type Logger } from './logger.js'
import type { NodeLease } from './cluster/node-lease.js'
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base'
import { startTracing } from './tracing/tracing.js'
import { Recovery } from './recovery/recovery.js'
import { Readiness } from './readiness.js'
import { within } from '../adapters/node-id-claim.js'

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
  /** A span processor of the caller's: turns tracing on without tracing.otlpEndpoint (tests: an in-memory exporter). */
  readonly spanProcessor?: SpanProcessor
  /** The node cannot go on and must stop, with the error's exit code (SharedStoreConfig.onFatal). */
  readonly onFatal?: (error: Error & { readonly exitCode: number }) => void
}

export async function startArbiterServer(config: ArbiterConfig, options: StartOptions = {}): Promise<ArbiterServer> {
  // Every line names the node, and on the shared store its epoch at the time (a rejoin moves it on).
  const cluster: { lease?: NodeLease } = {}
  const logger = (options.logger ?? createLogger({ level: process.env.ARBITER_LOG_LEVEL ?? config.logLevel })).child(
    { node: config.nodeId },
    { formatters: { log: (fields) => (cluster.lease ? { epoch: cluster.lease.epoch, ...fields } : fields) } },
  )
  const metrics = new ArbiterMetrics()
  registerNodeInfo(metrics.registry, config.nodeId, config.log.store)
  const readiness = new Readiness()
  const refused: { resources?: ResourceRegistry } = {}
  // A resource where another live TM holds this node's id makes the node unready (resource-readiness.ts).
  const notReady = (): string | undefined => readiness.notReady() ?? (refused.resources ? nodeIdConflictNote(refused.resources) : undefined)
  metrics.notReady = notReady
  const metricsServer =
    config.metrics.listen === ''
      ? undefined
      : await startMetricsServer({
          listen: config.metrics.listen,
          metrics,
          logger,
          notReady,
          degraded: () => (refused.resources ? refusedResourcesNote(refused.resources) : undefined),
        })
  try {
    return await startCore(config, options, logger, metrics, metricsServer, readiness, refused, cluster)
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
  readiness: Readiness,
  refused: { resources?: ResourceRegistry },
  cluster: { lease?: NodeLease },
): Promise<ArbiterServer> {
  // Where start-up time goes, in the "arbiter listening" line (a restart's time to ready is an operator's first question).
  const startedAt = Date.now()
  const startup: Record<string, number> = {}
  let stepFrom = startedAt
  const step = (name: string): void => {
    const now = Date.now()
    startup[name] = now - stepFrom
    stepFrom = now
  }
  if (config.failpoints) {
    configureFailpoints(config.failpoints)
    logger.warn({ failpoints: config.failpoints }, 'fail points are ON: this node will crash or stall on purpose')
  }
  const tracing = await startTracing(config, logger, options.spanProcessor)
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
  // The lock taken from under this node (it was frozen past the lock's watch): fail-stop, as after a failed fsync.
  const lockLost: { log?: { stopWriting(why: Error): void } } = {}
  const unlock = await lockDataDir(config.dataDir, (why) => {
    logger.fatal({ err: why }, 'the data folder was taken by another process: this node writes nothing more to its log (restart it once that one is gone)')
    lockLost.log?.stopWriting(new Error(`the data folder's lock was taken: ${why}`))
  })
  try {
    if (config.log.store === 'file') await checkDataDirNode(config.dataDir, config.nodeId)
  } catch (error) {
    unlock()
    throw error
  }
  // The commit delay counts the coordinator's transactions in progress, which exist only once it does.
  let liveTransactions = (): number => 0
  let opened: OpenedLog
  try {
    opened = await openDecisionLog(config, {
      logger,
      onBatch: (records) => metrics.logBatch(records),
      liveTransactions: () => liveTransactions(),
      onFatal: options.onFatal,
    })
  } catch (error) {
    unlock()
    throw error
  }
  const { log, writeProbe, shared } = opened
  /**
   * Closes the decision log. The shared store gets STORE_CLOSE_WAIT_MS: a paused or unreachable one held a stop
   * for as long as it stayed away (found by hostile testing: 50 s, until it came back). What it leaves unsettled
   * (a decision it has not answered for, whose Commit is left prepared: drain.ts) the next run or a takeover settles.
   */
  const closeLog = async (): Promise<void> => {
    if (!shared) return log.close()
    await within(shared.close(), STORE_CLOSE_WAIT_MS, 'closing the shared store').catch((error: unknown) =>
      logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'the shared store did not close in time: its unsettled decisions are settled by the next run or a takeover'),
    )
  }
  if (log instanceof FileDecisionLog) {
    lockLost.log = log
    await rememberDataDirNode(config.dataDir, config.nodeId)
  }
  if (shared) cluster.lease = shared.lease
  step('logOpenMs')
  const stranded = strandedDecisions(log.unfinished(), new Set(options.adapters ? options.adapters.map((a) => a.name) : config.resources.map((r) => r.name)))
  if (stranded.size > 0 && !shared) {
    await log.close()
    unlock()
    throw ConfigError.of([strandedProblem(stranded)], undefined)
  }
  if (stranded.size > 0) {
    // In a cluster a refusal would hand them (its lease lapsing) to a node with the same config: said, not refused.
    logger.error({ problem: strandedProblem(stranded).given }, 'unfinished decisions name resources this node does not have: their branches there stay prepared until a node with those resources finishes them')
  }
  logger.info(
    { store: config.log.store, ...(shared ? { epoch: shared.lease.epoch } : { dataDir: resolve(config.dataDir) }), unfinished: log.unfinished().length },
    'decision log open',
  )

  const adapters =
    options.adapters ??
    config.resources.map((r, i) => {
      const url = resourceUrls[i]!
      logger.info({ resource: r.name, kind: r.kind, url: maskUrl(url), poolSize: r.poolSize }, 'resource configured')
      return createAdapter({ name: r.name, kind: r.kind, url, poolSize: r.poolSize, connectTimeoutMs: r.connectTimeoutMs })
    })
  if (adapters.length === 0) {
    // Legal (a node being set up), but it can take part in nothing: say so rather than start as if all were well.
    logger.warn({}, 'no resources configured (resources: []): every statement and Enlist will be refused until resources are added and the node restarted')
  }
  const resources = new ResourceRegistry(adapters, logger, { nodeId: config.nodeId })
  refused.resources = resources
  await resources.initAll(5000)
  step('resourcesMs')

  // Recovery exists only after the coordinator: the coordinator's hook reaches it through this.
  const late: { recovery?: Recovery } = {}
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
    onSessionLost: (endedAt) => late.recovery?.expedite(endedAt),
    ...(shared && { members: shared.members }),
  })
  liveTransactions = () => coordinator.inProgressCount
  if (coordinator.callerLimits) registerCallerMetrics(metrics.registry, coordinator.callerLimits)
  const recovery = new Recovery({
    coordinator,
    resources,
    log,
    logger,
    config: { nodeId: config.nodeId, ...config.recovery, startedAt },
    onScan: (report) => metrics.recoveryPass(report),
    takenOver: shared?.takenOver,
  })
  late.recovery = recovery
  metrics.attach({ coordinator, log, resources, stuckAfterMs: config.admin.stuckAfterMs }, config.metrics.resourceRefreshMs)
  // A dead node's work is taken over before the first pass, so that pass finishes it too.
  if (shared) {
    shared.takeover.identityTagOf = (resource) => resources.identityTag(resource)
    shared.lease.resourceTags = () => Object.fromEntries(resources.names().flatMap((name) => {
      const tag = resources.identityTag(name)
      return tag === undefined ? [] : [[name, tag]]
    }))
  }
  const clusterMetrics = shared && registerClusterMetrics(metrics.registry, shared.lease, shared.takeover)
  await shared?.start(coordinator, recovery, (_event, durationMs) => clusterMetrics?.takeoverFinished(durationMs))
  const firstPass = await recovery.scan()
  step('recoveryMs')
  logger.info({ steps: firstPass.steps.length, unreachable: Object.keys(firstPass.unreachable) }, 'start-up recovery done')
  recovery.start()

  // This node's address for ListMembers and the store's member list: known once the port is bound.
  let advertised = config.cluster.advertiseAddress ?? config.listen
  const tm = transactionManagerHandlers(
    coordinator,
    logger,
    config.limits,
    { nodeId: config.nodeId, address: () => advertised, ...(shared && { list: () => shared.members.list() }) },
    createSessionRequestMetrics(metrics.registry),
  )
  const { server, health } = buildGrpcServer({
    tm: tm.handlers,
    admin: adminHandlers({
      coordinator,
      recovery,
      log,
      resources,
      logger,
      config: { nodeId: config.nodeId, stuckAfterMs: config.admin.stuckAfterMs, address: () => advertised },
      ...(shared && {
        cluster: {
          details: () => shared.members.details(),
          holders: (gtrids: readonly string[]) => shared.holders.of(gtrids),
          unfinishedElsewhere: () => shared.log.unfinishedOf(config.nodeId),
          lookUp: (gtrid: string) => shared.log.lookUp(gtrid),
          adopts: (nodeId: string) => shared.takeover.adopts(nodeId),
        },
      }),
    }),
    // Metrics first: grpc-js wraps later interceptors around earlier ones, so auth's refusals are counted too.
    interceptors: [createGrpcMetricsInterceptor(metrics.registry), createAuthInterceptor(auth, logger)],
    maxMessageBytes: config.limits.maxMessageBytes,
    keepalive: config.keepalive,
    logger,
  })
  let port: number
  try {
    port = await bind(server, config.listen, credentials)
  } catch (error) {
    recovery.stop()
    await coordinator.shutdown(0)
    await resources.closeAll()
    await closeLog()
    unlock()
    throw new Error(`cannot listen on ${config.listen}: ${(error as Error).message}`, { cause: error })
  }
  for (const service of ['', TM_SERVICE, ADMIN_SERVICE]) health.setStatus(service, 'SERVING')
  const host = hostOf(config.listen)
  const address = `${host.includes(':') ? `[${host}]` : host}:${port}`
  advertised = config.cluster.advertiseAddress ?? reachableAddress(host, port)
  if (shared && config.cluster.advertiseAddress === undefined) {
    await shared.lease.advertise(advertised).catch((error: unknown) => logger.warn({ err: String(error) }, 'address not advertised in the store: the next renewal or rejoin does'))
  }
  await shared?.lease.warnIfAddressShared().catch(() => undefined) // a check for the operator, never in the way of start-up
  await writeProbe?.check()
  writeProbe?.start()
  readiness.ready(log, writeProbe)
  step('listenMs')
  logger.info(
    { address, nodeId: config.nodeId, pid: process.pid, tls: config.tls !== undefined, auth: auth.enabled, startupMs: Date.now() - startedAt, ...startup },
    'arbiter listening',
  )

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
        // Drain with every stream open, so each request already sent is answered with its outcome.
        const graceEnds = Date.now() + config.shutdownGraceMs
        readiness.draining()
        for (const service of ['', TM_SERVICE, ADMIN_SERVICE]) health.setStatus(service, 'NOT_SERVING')
        recovery.stop()
        logger.info({ graceMs: config.shutdownGraceMs, live: coordinator.liveCount }, 'draining: no new transactions')
        await coordinator.drain(config.shutdownGraceMs)
        coordinator.stop() // phase-2 loops still running end here; their Commits answer with the decision
        // Streams end once their requests in flight are answered; then the port closes.
        await tm.sessions.closeAll(Math.max(200, graceEnds - Date.now()))
        await new Promise<void>((resolve) => {
          // An open health Watch stream would keep tryShutdown waiting forever.
          const force = setTimeout(() => {
            server.forceShutdown()
            resolve()
          }, Math.max(200, graceEnds - Date.now()))
          server.tryShutdown(() => {
            clearTimeout(force)
            resolve()
          })
        })
        writeProbe?.stop()
        await resources.closeAll()
        await closeLog()
        unlock()
        metrics.stop()
        await metricsServer?.close()
        await tracing?.shutdown()
        logger.info({ live: coordinator.liveCount }, 'arbiter stopped')
      })()),
  }
}

/** How long a stop waits for the shared store to close (closeLog). */
const STORE_CLOSE_WAIT_MS = 3_000

/** Where clients reach a node bound to `host`: a wildcard bind names no host others can dial, so the machine's name stands in. */
function reachableAddress(host: string, port: number): string {
  if (host === '0.0.0.0' || host === '::' || host === '[::]' || host === '') return `${hostname()}:${port}`
  return `${host.includes(':') ? `[${host}]` : host}:${port}`
}
