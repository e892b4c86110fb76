// The TM's configuration: one YAML or JSON file plus environment overrides
// (ARBITER_ prefix, "__" for nesting: ARBITER_RECOVERY__GRACE_MS=5000).
// Validated once with zod; a bad field stops start-up with its path named.
// Precedence: explicit overrides > environment > file > defaults.
import { readFileSync } from 'node:fs'
import { parse as parseYaml } from 'yaml'
import { z } from 'zod'

const resourceSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, "_", "." or "-", at most 64'),
    kind: z.enum(['postgres', 'mysql', 'redis']),
    /** The connection URL; or urlEnv (an environment variable's name) or urlFile (a file holding it), to keep secrets out of the file. */
    url: z.string().optional(),
    urlEnv: z.string().optional(),
    urlFile: z.string().optional(),
    poolSize: z.coerce.number().int().min(1).max(1000).default(10),
    connectTimeoutMs: z.coerce.number().int().min(100).default(5000),
  })
  .refine((r) => [r.url, r.urlEnv, r.urlFile].filter(Boolean).length === 1, {
    message: 'give exactly one of url, urlEnv or urlFile',
  })

const tokenSchema = z
  .object({
    /** Names the caller in logs and in an operator's resolution records. */
    name: z.string().regex(/^[A-Za-z0-9_.@-]{1,64}$/, 'letters, digits, "_", ".", "@" or "-", at most 64'),
    /** application: TransactionManager only; admin: also the Admin service. */
    role: z.enum(['application', 'admin']),
    /** The secret itself; or tokenEnv (an environment variable's name) or tokenFile (a file holding it). */
    token: z.string().optional(),
    tokenEnv: z.string().optional(),
    tokenFile: z.string().optional(),
  })
  .refine((t) => [t.token, t.tokenEnv, t.tokenFile].filter(Boolean).length === 1, {
    message: 'give exactly one of token, tokenEnv or tokenFile',
  })

/** YAML gives booleans; environment variables give "true"/"false" (z.coerce.boolean would read "false" as true). */
const flag = z.union([z.boolean(), z.stringbool()])

const tlsSchema = z
  .object({
    /** PEM certificate chain of the server. */
    certFile: z.string().min(1),
    /** PEM private key of the server. */
    keyFile: z.string().min(1),
    /** PEM CA bundle that client certificates must chain to (needed for requireClientCert). */
    caFile: z.string().min(1).optional(),
    /** Mutual TLS: refuse clients without a certificate signed by caFile. */
    requireClientCert: flag.default(false),
  })
  .refine((t) => !t.requireClientCert || t.caFile !== undefined, { message: 'requireClientCert needs caFile (the CA client certificates must chain to)' })

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const

const configSchema = z.object({
  /** Names this TM node in every gtrid it creates. */
  nodeId: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, '1–32 letters, digits, "_" or "-"').default('arbiter-1'),
  /** host:port of the gRPC port. */
  listen: z.string().default('127.0.0.1:50051'),
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
    .object({
      /** host:port of the Prometheus/health HTTP port ('' disables it; port 0 picks a free one). */
      listen: z.string().default('127.0.0.1:9464'),
      /** How often resource health (pool use, prepared branches) is read for the metrics, in ms. */
      resourceRefreshMs: z.coerce.number().int().min(100).default(5000),
    })
    .prefault({}),
  /** Folder of the file decision log. */
  dataDir: z.string().default('./arbiter-data'),
  log: z
    .object({
      store: z.enum(['file']).default('file'),
      segmentBytes: z.coerce.number().int().min(4096).default(16 * 1024 * 1024),
      /**
       * Group commit under load (server/log/commit-delay.ts): a decision's
       * fsync waits at most this long for more decisions to share it (0: off).
       */
      commitDelayMs: z.coerce.number().min(0).max(100).default(20),
      /** …only while at least this many transactions are in progress… */
      commitSiblings: z.coerce.number().int().min(0).default(5),
      /** …and only until the batch holds this share of them (the latency added is about this share of a transaction's). */
      commitBatchFraction: z.coerce.number().gt(0).max(1).default(0.1),
    })
    .prefault({}),
  resources: z.array(resourceSchema).default([]),
  transactions: z
    .object({
      defaultTimeoutMs: z.coerce.number().int().min(1).default(30_000),
      maxTimeoutMs: z.coerce.number().int().min(1).default(300_000),
      /** How long phase 2 waits for an application to commit its own local branches before the TM does. */
      localBranchGraceMs: z.coerce.number().int().min(0).default(5_000),
      /** How long finished transactions stay queryable in memory. */
      retentionMs: z.coerce.number().int().min(0).default(600_000),
      /** How many finished transactions stay in memory at most (the oldest go first). */
      maxRetained: z.coerce.number().int().min(0).default(10_000),
    })
    .prefault({}),
  recovery: z
    .object({
      intervalMs: z.coerce.number().int().min(50).default(10_000),
      /** An orphan (prepared, no decision, not live) is rolled back when seen again this much later. */
      graceMs: z.coerce.number().int().min(0).default(30_000),
    })
    .prefault({}),
  limits: z
    .object({
      maxActiveTransactions: z.coerce.number().int().min(1).default(10_000),
      maxBranchesPerTransaction: z.coerce.number().int().min(1).default(32),
      maxStatementBytes: z.coerce.number().int().min(16).default(1024 * 1024),
      maxParams: z.coerce.number().int().min(0).default(1000),
      maxRows: z.coerce.number().int().min(1).default(10_000),
      maxLabels: z.coerce.number().int().min(0).default(32),
      /** Bytes of all label keys and values of one transaction together. */
      maxLabelBytes: z.coerce.number().int().min(0).default(4096),
      maxMessageBytes: z.coerce.number().int().min(1024).default(8 * 1024 * 1024),
      /** Requests answered concurrently on one Session stream; more are refused (RESOURCE_EXHAUSTED). */
      maxSessionRequestsInFlight: z.coerce.number().int().min(1).default(1024),
    })
    .prefault({}),
  /** How long a graceful shutdown waits for commits in flight. */
  shutdownGraceMs: z.coerce.number().int().min(0).default(10_000),
  /**
   * Bearer tokens. None configured: authentication is OFF (every caller may
   * use every service, the Admin one included). Any configured: every call
   * needs `authorization: Bearer <token>`.
   */
  auth: z
    .object({
      tokens: z.array(tokenSchema).default([]),
    })
    .prefault({}),
  admin: z
    .object({
      /** A transaction in COMMITTING longer than this is shown as stuck. */
      stuckAfterMs: z.coerce.number().int().min(0).default(60_000),
    })
    .prefault({}),
  /** Fail points for fault-injection tests; never set in production. */
  failpoints: z.string().optional(),
})

export type ArbiterConfigInput = z.input<typeof configSchema>
export type ArbiterConfig = Readonly<z.output<typeof configSchema>>
export type ResourceConfigEntry = z.output<typeof resourceSchema>
export type AuthTokenEntry = z.output<typeof tokenSchema>

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
}

/** Validates a config object; fills in defaults. */
export function parseConfig(input: unknown): ArbiterConfig {
  const result = configSchema.safeParse(input)
  if (!result.success) throw new ConfigError(`invalid configuration:\n${z.prettifyError(result.error)}`)
  const names = new Set<string>()
  for (const r of result.data.resources) {
    if (names.has(r.name)) throw new ConfigError(`invalid configuration: resource name "${r.name}" is used twice`)
    names.add(r.name)
  }
  const tokenNames = new Set<string>()
  for (const t of result.data.auth.tokens) {
    if (tokenNames.has(t.name)) throw new ConfigError(`invalid configuration: token name "${t.name}" is used twice`)
    tokenNames.add(t.name)
  }
  if (result.data.transactions.defaultTimeoutMs > result.data.transactions.maxTimeoutMs) {
    throw new ConfigError('invalid configuration: transactions.defaultTimeoutMs is over transactions.maxTimeoutMs')
  }
  const { listen, tls, auth, allowInsecureNonLoopback } = result.data
  if (!tls && auth.tokens.length === 0 && !isLoopbackListen(listen) && !allowInsecureNonLoopback) {
    throw new ConfigError(
      `invalid configuration: listen "${listen}" is not a loopback address, and neither tls nor auth.tokens is configured: ` +
        'anyone who can reach the port could commit, roll back and resolve transactions. ' +
        'Configure tls and/or auth.tokens, listen on 127.0.0.1, or set allowInsecureNonLoopback: true (trusted networks only).',
    )
  }
  if (result.data.metrics.listen !== '' && !/^.+:\d{1,5}$/.test(result.data.metrics.listen)) {
    throw new ConfigError(`invalid configuration: metrics.listen "${result.data.metrics.listen}" is not host:port (or '' to disable)`)
  }
  return Object.freeze(result.data)
}

/** Reads the file (YAML or JSON), applies ARBITER_* environment overrides, validates. */
export function loadConfig(path: string | undefined, env: NodeJS.ProcessEnv = process.env): ArbiterConfig {
  let fromFile: Record<string, unknown> = {}
  if (path) {
    let text: string
    try {
      text = readFileSync(path, 'utf8')
    } catch (error) {
      throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`)
    }
    try {
      fromFile = (parseYaml(text) as Record<string, unknown> | null) ?? {}
    } catch (error) {
      throw new ConfigError(`config file ${path} is not valid YAML/JSON: ${(error as Error).message}`)
    }
  }
  return parseConfig(applyEnv(fromFile, env))
}

/** ARBITER_RECOVERY__GRACE_MS=5 → { recovery: { graceMs: "5" } } (zod coerces). */
export function applyEnv(base: Record<string, unknown>, env: NodeJS.ProcessEnv): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(base)
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith('ARBITER_') || value === undefined) continue
    if (key.startsWith('ARBITER_TEST_') || key === 'ARBITER_FAILPOINTS') continue
    const path = key.slice('ARBITER_'.length).split('__').map(camel)
    let node = out
    for (const part of path.slice(0, -1)) {
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {}
      node = node[part] as Record<string, unknown>
    }
    node[path[path.length - 1]!] = value
  }
  return out
}

function camel(envPart: string): string {
  return envPart.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** The host part of host:port, without IPv6 brackets. */
export function hostOf(listen: string): string {
  const host = listen.slice(0, Math.max(0, listen.lastIndexOf(':')))
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** True when host:port names a loopback interface only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackListen(listen: string): boolean {
  const host = hostOf(listen).toLowerCase()
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}

/** The resource's URL, wherever the config says it lives. */
export function resolveResourceUrl(resource: ResourceConfigEntry, env: NodeJS.ProcessEnv = process.env): string {
  if (resource.url) return resource.url
  if (resource.urlEnv) {
    const value = env[resource.urlEnv]
    if (!value) throw new ConfigError(`resource "${resource.name}": environment variable ${resource.urlEnv} is not set`)
    return value
  }
  try {
    return readFileSync(resource.urlFile!, 'utf8').trim()
  } catch (error) {
    throw new ConfigError(`resource "${resource.name}": cannot read urlFile ${resource.urlFile}: ${(error as Error).message}`)
  }
}
