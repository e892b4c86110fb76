// The TM's configuration: one YAML or JSON file plus environment overrides
// (ARBITER_ prefix, "__" for nesting: ARBITER_RECOVERY__GRACE_MS=5000).
// Validated once with zod. Every bad field, unknown key or ARBITER_*
// variable stops start-up with the same kind of message (exit code 2): the
// path or the variable, what was expected, what was given
// (server/config/*.ts). Precedence: environment > file > defaults.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'
import { ConfigError, describeGiven, type ConfigProblem } from './config/config-error.js'
import { crossFieldProblems } from './config/cross-field-checks.js'
import { applyEnvOverrides } from './config/env-overrides.js'
import { problemsOf } from './config/issues.js'
import { resourceUrl, sourceProblems } from './config/sources.js'

export { ConfigError, type ConfigProblem } from './config/config-error.js'

/**
 * A number: as YAML/JSON gives it, or as text from an ARBITER_* variable.
 * Only text that reads as a number is converted (z.coerce would turn "ten"
 * into NaN, "" into 0 and true into 1).
 */
function numberFrom<T extends z.ZodNumber>(schema: T) {
  return z.preprocess((v) => (typeof v === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(v) ? Number(v) : v), schema)
}
const wholeNumber = (min: number, max?: number) => numberFrom(max === undefined ? z.number().int().min(min) : z.number().int().min(min).max(max))
/** The longest a Node.js timer waits: a longer one fires after 1 ms (a 3e9 ms timeout rolled back at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1
/** Milliseconds that become a timer. */
const durationMs = (min: number) => wholeNumber(min, MAX_TIMER_MS)

/** host:port with a port from 0 to 65535 (0 picks a free one). */
const HOST_PORT = /^(\[[0-9A-Fa-f:.]+\]|[^\s:[\]]+):(\d{1,5})$/
export function isHostPort(value: string): boolean {
  const match = HOST_PORT.exec(value)
  return match !== null && Number(match[2]) <= 65_535
}
const hostPort = z
  .string()
  .refine(isHostPort, 'host:port, e.g. 127.0.0.1:50051 (port 0 picks a free one)')
  .describe('a "host:port" string, e.g. 127.0.0.1:50051 (port 0 picks a free one)')

const resourceSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", at most 64'),
    kind: z.enum(['postgres', 'mysql', 'redis']),
    /** The connection URL; or urlEnv (an environment variable's name) or urlFile (a file holding it), to keep secrets out of the file. */
    url: z.string().min(1).optional(),
    urlEnv: z.string().min(1).optional(),
    urlFile: z.string().min(1).optional(),
    poolSize: wholeNumber(1, 1000).default(10),
    connectTimeoutMs: durationMs(100).default(5000),
  })
  .refine((r) => [r.url, r.urlEnv, r.urlFile].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of url, urlEnv or urlFile',
  })

/** A fraction of a pool: above 0, at most 1. */
const poolShare = numberFrom(z.number().gt(0).max(1)).describe('a fraction above 0, at most 1 (0.5: half the pool)')

/** Limits that apply to each caller (token) on its own, so that one caller cannot starve the others. */
const callerLimitsSchema = z.strictObject({
  /** Transactions in progress at once (default: a quarter of limits.maxActiveTransactions). */
  maxActiveTransactions: wholeNumber(1).optional(),
  /** Begins per second, on average (a token bucket; 0: no rate limit). */
  beginsPerSecond: numberFrom(z.number().min(0)).optional(),
  /** Begins allowed at once above that rate (the bucket's size). */
  beginBurst: wholeNumber(1).optional(),
  /** The fraction of each resource's session pool (poolSize) this caller may hold at once; 1: all of it. */
  poolShare: poolShare.optional(),
})

const tokenSchema = z
  .strictObject({
    /** Names the caller in logs and in an operator's resolution records. */
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, "_", ".", "@" or "-", at most 64'),
    /** application: TransactionManager only; admin: also the Admin service. */
    role: z.enum(['application', 'admin']),
    /** The secret itself; or tokenEnv (an environment variable's name) or tokenFile (a file holding it). */
    token: z.string().optional(),
    tokenEnv: z.string().min(1).optional(),
    tokenFile: z.string().min(1).optional(),
    /** This caller's own limits, instead of limits.perToken's (server/coordinator/caller-limits.ts). */
    limits: callerLimitsSchema.optional(),
  })
  .refine((t) => [t.token, t.tokenEnv, t.tokenFile].filter((v) => v !== undefined).length === 1, {
    message: 'exactly one of token, tokenEnv or tokenFile',
  })

/** YAML gives booleans; environment variables give "true"/"false" (z.coerce.boolean would read "false" as true). */
const flag = z.union([z.boolean(), z.stringbool()])

const tlsSchema = z
  .strictObject({
    /** PEM certificate chain of the server. */
    certFile: z.string().min(1),
    /** PEM private key of the server. */
    keyFile: z.string().min(1),
    /** PEM CA bundle that client certificates must chain to (mutual TLS: only with requireClientCert). */
    caFile: z.string().min(1).optional(),
    /** Mutual TLS: refuse clients without a certificate signed by caFile. */
    requireClientCert: flag.default(false),
  })
  .refine((t) => !t.requireClientCert || t.caFile !== undefined, {
    message: 'a caFile (the CA client certificates must chain to) when requireClientCert is true',
    path: ['caFile'],
  })
  // grpc-js checks client certificates only when it requires them: caFile alone let in clients with no certificate,
  // or one from any CA, while looking like mutual TLS (found by hostile testing).
  .refine((t) => t.caFile === undefined || t.requireClientCert, {
    message: 'a caFile only with tls.requireClientCert: true (mutual TLS: only clients with a certificate chaining to caFile get in); without it caFile checks nothing, so set requireClientCert: true or drop caFile',
    path: ['caFile'],
  })

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const configSchema = z.strictObject({
  /** Names this TM node in every gtrid it creates. */
  nodeId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, '1–32 letters, digits, "_" or "-"').default('arbiter-1'),
  /** host:port of the gRPC port. */
  listen: hostPort.default('127.0.0.1:50051'),
  /** pino level; ARBITER_LOG_LEVEL overrides it. */
  logLevel: z.enum(LOG_LEVELS).default('info'),
  /** TLS for the gRPC port (files only: keys never sit in the config itself). Absent: plaintext. */
  tls: tlsSchema.optional(),
  /**
   * A TM with neither TLS nor tokens listens on loopback only; this lets it
   * listen elsewhere anyway (and it warns at start-up). Never in production.
   */
  allowInsecureNonLoopback: flag.default(false),
  metrics: z
    .strictObject({
      /** host:port of the Prometheus/health HTTP port ('' disables it; port 0 picks a free one). */
      listen: z
        .string()
        .refine((v) => v === '' || isHostPort(v), "host:port, e.g. 127.0.0.1:9464 (port 0 picks a free one), or '' to turn the metrics port off")
        .default('127.0.0.1:9464'),
      /** How often resource health (pool use, prepared branches) is read for the metrics, in ms. */
      resourceRefreshMs: durationMs(100).default(5000),
    })
    .prefault({}),
  /** Folder of the file decision log. */
  dataDir: z.string().min(1).default('./arbiter-data'),
  log: z
    .strictObject({
      /** file: segment files in dataDir (one node); postgres: a shared PostgreSQL database (a cluster: docs/cluster.md). */
      store: z.enum(['file', 'postgres']).default('file'),
      /** log.store postgres: the store's URL; or urlEnv (a variable's name) or urlFile (a file holding it). */
      url: z.string().min(1).optional(),
      urlEnv: z.string().min(1).optional(),
      urlFile: z.string().min(1).optional(),
      /** log.store postgres: how long ended transactions (and presumed-abort markers) stay in the store. */
      retainEndedMs: durationMs(60_000).default(3_600_000),
      segmentBytes: wholeNumber(4096).default(16 * 1024 * 1024),
      /**
       * Group commit under load (server/log/commit-delay.ts): a decision's
       * fsync waits at most this long for more decisions to share it (0: off).
       */
      commitDelayMs: numberFrom(z.number().min(0).max(100)).default(20),
      /** …only while at least this many transactions are in progress… */
      commitSiblings: wholeNumber(0).default(5),
      /** …and only until the batch holds this share of them (the latency added is about this share of a transaction's). */
      commitBatchFraction: numberFrom(z.number().gt(0).max(1)).describe('a number greater than 0, at most 1').default(0.1),
    })
    .refine((l) => l.store !== 'postgres' || [l.url, l.urlEnv, l.urlFile].filter((v) => v !== undefined).length === 1, {
      message: 'exactly one of url, urlEnv or urlFile (the shared store\'s PostgreSQL URL) with store: postgres',
    })
    .refine((l) => l.store === 'postgres' || [l.url, l.urlEnv, l.urlFile].every((v) => v === undefined), {
      message: 'store: postgres to use url, urlEnv or urlFile (the file store lives in dataDir)',
    })
    .prefault({}),
  /** Several nodes on one shared store (log.store: postgres): leases and takeover (server/cluster/). */
  cluster: z
    .strictObject({
      /** A node whose lease is not renewed for this long may be taken over (timed by the store's clock). */
      leaseMs: durationMs(500).default(10_000),
      /** How often a node looks for lapsed leases to take over. */
      takeoverIntervalMs: durationMs(100).default(2_000),
      /**
       * How far this node's clock may be from the shared store's (PostgreSQL's) when it joins: its gtrids are
       * named by its clock, and the guards that keep recovery from presuming aborted what another log decided
       * compare those times with when it first joined the store. Further off, it refuses to start.
       */
      maxClockOffsetMs: durationMs(10).default(500),
      /** host:port clients reach this node on, recorded in the store (default: listen). */
      advertiseAddress: hostPort.optional(),
    })
    .prefault({}),
  /** OpenTelemetry traces (server/tracing/): off unless otlpEndpoint is set. */
  tracing: z
    .strictObject({
      /** OTLP/HTTP traces endpoint, e.g. http://otel-collector:4318/v1/traces. */
      otlpEndpoint: z
        .string()
        .refine((v) => /^https?:\/\/[^/\s]+/.test(v), 'an http(s) URL, e.g. http://otel-collector:4318/v1/traces')
        .optional(),
      /** Share of new traces recorded (a caller's sampled trace is always followed). */
      samplingRatio: numberFrom(z.number().min(0, 'from 0 to 1').max(1, 'from 0 to 1')).default(1),
      /** service.name of the spans. */
      serviceName: z.string().min(1).default('arbiter'),
    })
    .prefault({}),
  resources: z.array(resourceSchema).default([]),
  transactions: z
    .strictObject({
      defaultTimeoutMs: durationMs(1).default(30_000),
      maxTimeoutMs: durationMs(1).default(300_000),
      /** How long phase 2 waits for an application to commit its own local branches before the TM does. */
      localBranchGraceMs: durationMs(0).default(5_000),
      /** How long finished transactions stay queryable in memory. */
      retentionMs: durationMs(0).default(600_000),
      /** How many finished transactions stay in memory at most (the oldest go first). */
      maxRetained: wholeNumber(0).default(10_000),
    })
    .prefault({}),
  recovery: z
    .strictObject({
      intervalMs: durationMs(50).default(10_000),
      /** An orphan (prepared, no decision, not live) is rolled back when seen again this much later. */
      graceMs: durationMs(0).default(30_000),
    })
    .prefault({}),
  limits: z
    .strictObject({
      maxActiveTransactions: wholeNumber(1).default(10_000),
      maxBranchesPerTransaction: wholeNumber(1).default(32),
      maxStatementBytes: wholeNumber(16).default(1024 * 1024),
      maxParams: wholeNumber(0).default(1000),
      maxRows: wholeNumber(1).default(10_000),
      maxLabels: wholeNumber(0).default(32),
      /** Bytes of all label keys and values of one transaction together. */
      maxLabelBytes: wholeNumber(0).default(4096),
      maxMessageBytes: wholeNumber(1024).default(8 * 1024 * 1024),
      /** Requests answered concurrently on one Session stream; more are refused (RESOURCE_EXHAUSTED). */
      maxSessionRequestsInFlight: wholeNumber(1).default(1024),
      /**
       * Per caller, with auth.tokens configured (each token is a caller;
       * a token's own `limits` override these). Without tokens there is no
       * per-caller limit: only the node-wide ones apply.
       */
      perToken: z
        .strictObject({
          maxActiveTransactions: wholeNumber(1).optional(),
          beginsPerSecond: numberFrom(z.number().min(0)).default(1000),
          beginBurst: wholeNumber(1).default(1000),
          /** Applies by default with two tokens or more (one token is the only caller there is). */
          poolShare: poolShare.default(0.5),
        })
        .prefault({}),
    })
    .prefault({}),
  /** How long a graceful shutdown waits for commits in flight. */
  shutdownGraceMs: durationMs(0).default(10_000),
  /**
   * HTTP/2 pings to every client connection: a client that stops answering
   * (its host gone, a network split: no reset ever arrives) is found within
   * timeMs + timeoutMs, its session streams end, and its transactions are
   * rolled back after transactions.localBranchGraceMs (docs/running-a-node.md,
   * "How long row locks can be held").
   */
  keepalive: z
    .strictObject({
      timeMs: durationMs(1000).default(15_000),
      timeoutMs: durationMs(500).default(5_000),
    })
    .prefault({}),
  /**
   * Bearer tokens. None configured: authentication is OFF (every caller may
   * use every service, the Admin one included). Any configured: every call
   * needs `authorization: Bearer <token>`.
   */
  auth: z
    .strictObject({
      tokens: z.array(tokenSchema).default([]),
    })
    .prefault({}),
  admin: z
    .strictObject({
      /** A transaction in COMMITTING longer than this is shown as stuck. */
      stuckAfterMs: durationMs(0).default(60_000),
    })
    .prefault({}),
  /** Fail points for fault-injection tests; never set in production. */
  failpoints: z.string().optional(),
})

export type ArbiterConfigInput = z.input<typeof configSchema>
export type ParsedConfig = z.output<typeof configSchema>
export type ArbiterConfig = Readonly<z.output<typeof configSchema>>
export type ResourceConfigEntry = z.output<typeof resourceSchema>
export type AuthTokenEntry = z.output<typeof tokenSchema>
export type CallerLimitsEntry = z.output<typeof callerLimitsSchema>

/** Validates a config object (the file with the environment applied); fills in defaults. `origins` names the variables values came from. */
export function parseConfig(input: unknown, options: { origins?: ReadonlyMap<string, string>; source?: string } = {}): ArbiterConfig {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw ConfigError.of([{ path: '', expected: 'a mapping of settings (nodeId, listen, resources, …)', given: describeGiven(input, undefined) }], options.source)
  }
  const result = configSchema.safeParse(input)
  if (!result.success) {
    throw ConfigError.of(problemsOf(result.error.issues, { schema: configSchema, input, origins: options.origins ?? new Map() }), options.source)
  }
  const problems = crossFieldProblems(result.data)
  // A cluster node on the default id would join as "arbiter-1" beside another that did the same:
  // the second is refused only after waiting out the first's lease. Each node names itself.
  if (result.data.log.store === 'postgres' && (input as Record<string, unknown>).nodeId === undefined) {
    problems.push({
      path: 'nodeId',
      expected: 'a nodeId of its own for each node on log.store: postgres (in the file, or ARBITER_NODE_ID), e.g. arbiter-1, arbiter-2, …',
      given: 'none (the default "arbiter-1" is for a node on its own)',
    })
  }
  problems.push(...clusterOnlyOnFileStore(result.data.log.store, input as Record<string, unknown>))
  if (problems.length > 0) throw ConfigError.of(problems, options.source)
  return Object.freeze(result.data)
}

/**
 * Settings of a cluster given to a node on the file store, where they do nothing. Found by hostile testing: a
 * config whose `log:` section was forgotten started with cluster.leaseMs and advertiseAddress set, and its operator
 * believed in a takeover that can never happen.
 */
function clusterOnlyOnFileStore(store: string, input: Record<string, unknown>): ConfigProblem[] {
  if (store !== 'file') return []
  const given = (o: unknown): string[] => (o !== null && typeof o === 'object' && !Array.isArray(o) ? Object.keys(o) : [])
  const expected = 'log.store: postgres with it (a cluster on a shared store: docs/cluster.md); on the file store a node has no lease, and no node takes it over'
  const log = input.log as Record<string, unknown> | undefined
  return [
    ...given(input.cluster).map((key) => ({ path: `cluster.${key}`, expected, given: 'set, with log.store: file' })),
    ...(log !== null && typeof log === 'object' && log.retainEndedMs !== undefined ? [{ path: 'log.retainEndedMs', expected, given: 'set, with log.store: file' }] : []),
  ]
}

/**
 * Reads the file (YAML or JSON), applies ARBITER_* environment overrides,
 * validates, and checks what the config points at (URL variables and
 * files, token secrets, TLS files): every problem is a ConfigError.
 */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ArbiterConfig {
  let fromFile: unknown = {}
  if (path) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw ConfigError.of([{ path: '', expected: 'a readable config file', given: `${path} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` }], path)
    }
    try {
      fromFile = parseYaml(text) ?? {}
    } catch (error) {
      const message = ((error as Error).message.split('\n')[0] ?? '').replace(/:$/, '')
      throw ConfigError.of([{ path: '', expected: 'valid YAML or JSON', given: `a syntax error: ${message}` }], path)
    }
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw ConfigError.of([{ path: '', expected: 'a mapping of settings (nodeId, listen, resources, …)', given: describeGiven(fromFile, undefined) }], path)
    }
  }
  const { merged, origins, problems: envProblems } = applyEnvOverrides(fromFile as Record<string, unknown>, env)
  const source = [path, origins.size > 0 || envProblems.length > 0 ? 'ARBITER_* environment variables' : undefined].filter(Boolean).join(' and ') || undefined
  if (envProblems.length > 0) throw ConfigError.of([...envProblems], source)
  const config = parseConfig(merged, { origins, source })
  const problems = sourceProblems(config, env)
  if (problems.length > 0) throw ConfigError.of(problems, source)
  return config
}

/** ARBITER_RECOVERY__GRACE_MS=5 → { recovery: { graceMs: "5" } } (validation converts the text). */
export function applyEnv(base: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  return applyEnvOverrides(base, env).merged
}

/** The resource's URL, wherever the config says it lives (a ConfigError naming the field when it cannot be had). */
export function resolveResourceUrl(resource: ResourceConfigEntry, env: NodeJS.ProcessEnv = process.env, index = 0): string {
  const got = resourceUrl(resource, index, env)
  if ('problem' in got) throw ConfigError.of([got.problem], undefined)
  return got.url
}

export { hostOf, isLoopbackListen } from './config/cross-field-checks.js'
