// The client's options, their defaults, and the one function that applies
// them (explicit > default).
import { dnsTarget } from './dns-nodes.js'
import type { ChannelOptions } from '@grpc/grpc-js'
import { InvalidArgumentError } from './errors.js'

/** TLS material (PEM). Without `tls` the channel is plaintext (insecure). */
export interface TlsOptions {
  /** Root certificate(s) to trust (default: Node's default roots). */
  readonly ca?: Buffer | string
  /** Client certificate chain, for mutual TLS (default: none). */
  readonly cert?: Buffer | string
  /** Client private key, for mutual TLS (default: none; give it with `cert`). */
  readonly key?: Buffer | string
}

/** Options of createArbiterClient(). */
export interface ArbiterClientOptions {
  /**
   * The TM's address, `host:port` (e.g. `127.0.0.1:50051`). Give this or
   * `addresses`. A gRPC `dns:` target (`dns:///arbiter.internal:50051`)
   * names a cluster: every address the name resolves to is a node (resolved
   * again every 30 s), as if each were in `addresses`.
   */
  readonly address?: string
  /**
   * Several nodes of one cluster (log.store: postgres), `host:port` each.
   * New transactions are spread over them round robin, skipping a node whose
   * connection is failing, that failed a call (1 s, doubling on each failure
   * up to 30 s, then until it answers a probe) or that the cluster lists as
   * not live; every request of a transaction goes to the node
   * that holds it; the outcome of a transaction whose node cannot be reached
   * is asked of the others (any node answers for one that was taken over).
   * Nodes not listed are learned from the cluster (ListMembers) when a
   * transaction names one. One entry behaves exactly as `address`.
   */
  readonly addresses?: readonly string[]
  /** TLS; when absent the channel is insecure (plaintext). */
  readonly tls?: TlsOptions
  /** Sent as `authorization: Bearer <token>` metadata on every call (default: no token). */
  readonly token?: string
  /** Deadline of every single RPC in milliseconds (default 30 000). Not the transaction's timeout. */
  readonly defaultDeadlineMs?: number
  /**
   * grpc-js channel options (keepalive etc.), passed through, over
   * DEFAULT_CHANNEL_OPTIONS (a reconnect backoff of 100 ms growing to 500 ms,
   * so a restarted TM is found within about half a second of being ready)
   * and, with several nodes, CLUSTER_CHANNEL_OPTIONS (keepalive: a ping every
   * 5 s, unanswered for 3 s drops the connection).
   */
  readonly channelOptions?: ChannelOptions
  /**
   * When a Commit's outcome is unknown (TM unreachable, deadline), how many
   * times to ask the TM (GetTransaction, or a repeated idempotent Commit)
   * before giving up with OutcomeUnknownError (default 5, backoff 200 ms…3.2 s).
   */
  readonly outcomeQueryAttempts?: number
  /**
   * How calls travel (default 'session'): 'session' multiplexes them on one
   * long-lived Session stream per client, a sixth of the CPU of a unary call
   * in grpc-js; 'unary' makes each its own gRPC call (for proxies that do not
   * carry bidirectional streams, or to see every call in per-RPC metrics).
   */
  readonly transport?: Transport
}

/** See ArbiterClientOptions.transport. */
export type Transport = 'session' | 'unary'

/** Retry of the whole transaction on a retryable TransactionAbortedError. */
export interface RetryOptions {
  /** Total attempts including the first (1 = no retry). Required. */
  readonly attempts: number
  /** First backoff in milliseconds (default 100); doubles per attempt, jittered. */
  readonly baseDelayMs?: number
  /** Upper bound of one backoff in milliseconds (default 5 000). */
  readonly maxDelayMs?: number
}

/** How long Commit waits before answering. */
export type WaitFor = 'applied' | 'durable'

/** Options of client.transaction() and client.run(). */
export interface TransactionOptions {
  /** The transaction's timeout at the TM in milliseconds (default 0 = the server's default, bounded by its maximum). */
  readonly timeoutMs?: number
  /** Labels stored with the transaction (visible to operators; default none). */
  readonly labels?: Readonly<Record<string, string>>
  /**
   * 'applied' (default): Commit answers after phase 2, so reads see the writes.
   * 'durable': it answers at the commit point (the decision is logged; phase 2 runs on).
   */
  readonly waitFor?: WaitFor
  /** Off by default. Retries the whole callback only on a TransactionAbortedError with `retryable` true. */
  readonly retry?: RetryOptions
  /**
   * Aborting rolls the transaction back and rejects with `signal.reason`. It
   * is honoured until the callback returns; once commit has begun the TM's
   * answer decides (default: none).
   */
  readonly signal?: AbortSignal
}

export const DEFAULT_DEADLINE_MS = 30_000
export const DEFAULT_OUTCOME_QUERY_ATTEMPTS = 5
export const DEFAULT_RETRY_BASE_DELAY_MS = 100
export const DEFAULT_RETRY_MAX_DELAY_MS = 5_000

/** ArbiterClientOptions with every default applied. */
export interface ResolvedClientOptions {
  /** The first of `addresses`: the one node of a client of one node. */
  readonly address: string
  readonly addresses: readonly string[]
  readonly tls: TlsOptions | undefined
  readonly token: string | undefined
  readonly defaultDeadlineMs: number
  readonly channelOptions: ChannelOptions
  readonly outcomeQueryAttempts: number
  readonly transport: Transport
}

/**
 * What the client sets on its gRPC channel unless channelOptions says
 * otherwise. grpc-js's own reconnect backoff starts at 1 s and grows towards
 * 2 minutes: after a TM restart a client kept failing for seconds after the
 * TM was ready. Loopback and LAN connects are cheap; the backoff's jitter
 * spreads a fleet's reconnects.
 */
export const DEFAULT_CHANNEL_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 500,
})

/**
 * What a client of several nodes (`addresses`, a `dns:` target) also sets on
 * each node's channel unless channelOptions says otherwise: HTTP/2 keepalive.
 * A frozen node (SIGSTOP, a VM paused, packets dropped) keeps its TCP
 * connection open, so its channel stays READY and nothing else shows it; a
 * ping unanswered for 3 s (sent every 5 s, also while no call is open) drops
 * the connection, and the client then sends the node no new transactions
 * until it answers again (node-set.ts). The TM (grpc-js) accepts pings at
 * any rate; behind a proxy or another gRPC server that enforces a minimum
 * ping interval (answering GOAWAY too_many_pings), set keepalive in
 * channelOptions to what it allows. A client of one node is unchanged.
 */
export const CLUSTER_CHANNEL_OPTIONS: Readonly<ChannelOptions> = Object.freeze({
  'grpc.keepalive_time_ms': 5000,
  'grpc.keepalive_timeout_ms': 3000,
  'grpc.keepalive_permit_without_calls': 1,
})

/** The longest a Node.js timer waits: a longer one fires after 1 ms. */
const MAX_TIMER_MS = 2 ** 31 - 1

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isFinite(value) || value <= 0 || value > MAX_TIMER_MS) {
    throw new InvalidArgumentError(`${name} must be a positive number up to ${MAX_TIMER_MS} (got ${value})`)
  }
  return value
}

function delay(name: string, value: number | undefined): void {
  if (value !== undefined && (!Number.isFinite(value) || value < 0 || value > MAX_TIMER_MS)) {
    throw new InvalidArgumentError(`${name} must be a number of milliseconds from 0 to ${MAX_TIMER_MS} (got ${value})`)
  }
}

/** Checks the options and applies the defaults. */
export function resolveClientOptions(options: ArbiterClientOptions): ResolvedClientOptions {
  const addresses = addressesOf(options)
  if (options.tls?.key !== undefined && options.tls.cert === undefined) throw new InvalidArgumentError('tls.key needs tls.cert')
  const transport = options.transport ?? 'session'
  if (transport !== 'session' && transport !== 'unary') {
    throw new InvalidArgumentError(`transport must be 'session' or 'unary' (got ${String(transport)})`)
  }
  return Object.freeze({
    address: addresses[0]!,
    addresses,
    tls: options.tls,
    token: options.token,
    defaultDeadlineMs: positive('defaultDeadlineMs', options.defaultDeadlineMs, DEFAULT_DEADLINE_MS),
    channelOptions: { ...DEFAULT_CHANNEL_OPTIONS, ...options.channelOptions },
    outcomeQueryAttempts: Math.floor(positive('outcomeQueryAttempts', options.outcomeQueryAttempts, DEFAULT_OUTCOME_QUERY_ATTEMPTS)),
    transport,
  })
}

/** A `dns:` target must name a host and a port (a cluster's nodes are resolved from it: dns-nodes.ts). */
function checkDnsTarget(entry: string, field: string): void {
  if (!entry.startsWith('dns:')) return
  const target = dnsTarget(entry)
  if (target === undefined) {
    throw new InvalidArgumentError(`${field}: a dns: target names a host and a port, e.g. dns:///arbiter.internal:50051 (got ${JSON.stringify(entry)})`)
  }
  // Found by hostile testing: both were accepted, then every call waited out its deadline (a bad port), or the
  // server named was silently not asked (the client resolves every name with the system's resolver: dns-nodes.ts).
  const port = Number(target.port)
  if (port < 1 || port > 65535) throw new InvalidArgumentError(`${field}: a dns: target's port must be from 1 to 65535 (got ${JSON.stringify(entry)})`)
  if (/^dns:\/\/[^/]/.test(entry)) {
    throw new InvalidArgumentError(`${field}: a dns: target naming its DNS server (${JSON.stringify(entry)}) is not supported: names are resolved with the system's resolver; write dns:///host:port`)
  }
}

function addressesOf(options: ArbiterClientOptions): readonly string[] {
  const { address, addresses } = options ?? {}
  if (address !== undefined && addresses !== undefined) throw new InvalidArgumentError('give address or addresses, not both')
  if (addresses !== undefined) {
    const given: unknown = addresses
    if (!Array.isArray(given) || given.length === 0) throw new InvalidArgumentError('addresses must be a non-empty array of host:port')
    const list = given as unknown[]
    const bad = list.findIndex((a) => typeof a !== 'string' || a === '')
    if (bad >= 0) throw new InvalidArgumentError(`addresses[${bad}] must be a host:port string (got ${JSON.stringify(list[bad])})`)
    ;(list as string[]).forEach((entry, i) => checkAddress(entry, `addresses[${i}]`))
    return Object.freeze([...new Set(list as string[])])
  }
  if (typeof address !== 'string' || address === '') throw new InvalidArgumentError('address is required (host:port), or addresses for several nodes')
  checkAddress(address, 'address')
  return Object.freeze([address])
}

/**
 * An address grpc-js could not parse makes every call wait out its deadline
 * and fail UNAVAILABLE ("Failed to parse DNS address"): refused here instead.
 * No target has whitespace or control characters (found by testing: a stray
 * space copied from a config).
 */
function checkAddress(entry: string, field: string): void {
  // eslint-disable-next-line no-control-regex
  if (/[\s\u0000-\u001f\u007f]/.test(entry)) {
    throw new InvalidArgumentError(`${field} has whitespace or a control character in it (got ${JSON.stringify(entry)}): give host:port alone`)
  }
  checkDnsTarget(entry, field)
  checkHostPort(entry, field)
}

/** gRPC target schemes other than dns: (checked by checkDnsTarget) that name their own syntax. */
const OTHER_SCHEMES = /^(unix|unix-abstract|ipv4|ipv6):/

/**
 * A plain target is host:port. grpc-js takes "localhost" alone as port 443,
 * and "localhost:abc", ":50051" or "http://tm:50051" only fail when called,
 * at the deadline, as UNAVAILABLE (retryable) — for input that can never
 * work (found by hostile testing).
 */
function checkHostPort(entry: string, field: string): void {
  if (entry.startsWith('dns:') || OTHER_SCHEMES.test(entry)) return
  if (entry.includes('://')) throw new InvalidArgumentError(`${field} is a URL (got ${JSON.stringify(entry)}): give host:port, e.g. "arbiter-1:50051"`)
  const match = /^(?:\[[0-9A-Fa-f:.]+\]|[^:[\]]+):(\d{1,5})$/.exec(entry)
  const port = match ? Number(match[1]) : 0
  if (port < 1 || port > 65535) {
    throw new InvalidArgumentError(`${field} must be host:port with a port from 1 to 65535, an IPv6 address in brackets ("[::1]:50051"); got ${JSON.stringify(entry)}`)
  }
}

/** Checks the transaction options a caller gave (throws InvalidArgumentError). */
export function checkTransactionOptions(options: TransactionOptions): void {
  // Found by hostile testing: these came out as TypeErrors, or as labels silently mangled ({"0":"p",…}, "[object Object]").
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`the transaction's options must be an object, e.g. { timeoutMs: 5000 } (got ${describeValue(options)})`)
  }
  if (options.labels !== undefined) {
    const labels: unknown = options.labels
    if (labels === null || typeof labels !== 'object' || Array.isArray(labels)) {
      throw new InvalidArgumentError(`labels must be an object of string values, e.g. { order: '42' } (got ${describeValue(labels)})`)
    }
    for (const [key, value] of Object.entries(labels)) {
      if (typeof value !== 'string') throw new InvalidArgumentError(`labels.${key} must be a string (got ${describeValue(value)})`)
    }
  }
  const signal = options.signal as { aborted?: unknown; addEventListener?: unknown } | undefined
  // By its shape, not instanceof: a signal from another realm (vm) or a polyfill is a signal too (found by review).
  if (signal !== undefined && (signal === null || typeof signal.aborted !== 'boolean' || typeof signal.addEventListener !== 'function')) {
    throw new InvalidArgumentError(`signal must be an AbortSignal, e.g. AbortSignal.timeout(5000) (got ${describeValue(options.signal)})`)
  }
  if (options.timeoutMs !== undefined && (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 0 || options.timeoutMs > MAX_TIMER_MS)) {
    throw new InvalidArgumentError(`timeoutMs must be an integer from 0 to ${MAX_TIMER_MS} (got ${options.timeoutMs})`)
  }
  delay('retry.baseDelayMs', options.retry?.baseDelayMs)
  delay('retry.maxDelayMs', options.retry?.maxDelayMs)
  if (options.waitFor !== undefined && options.waitFor !== 'applied' && options.waitFor !== 'durable') {
    throw new InvalidArgumentError(`waitFor must be 'applied' or 'durable' (got ${String(options.waitFor)})`)
  }
  if (options.retry !== undefined && (!Number.isInteger(options.retry.attempts) || options.retry.attempts < 1)) {
    throw new InvalidArgumentError(`retry.attempts must be an integer >= 1 (got ${options.retry.attempts})`)
  }
}

/** A value as an error message shows it: its type, and short values themselves. */
function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
    case 'object':
      return `an object (${(value.constructor as { name?: string } | undefined)?.name ?? 'Object'})`
    case 'function':
      return 'a function'
    case 'symbol':
      return 'a symbol'
    case 'undefined':
      return 'undefined'
    case 'bigint':
      return `bigint ${value.toString()}`
    default:
      return `${typeof value} ${JSON.stringify(value)}`
  }
}
