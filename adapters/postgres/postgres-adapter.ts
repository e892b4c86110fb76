// The PostgreSQL resource adapter: branches on pooled sessions, phase 2 and
// recovery by gid from any pooled session of the same database.
// xa-semantics.md §1 lists the server behaviour this relies on.
import pg from 'pg'
import type { PoolClient } from 'pg'
import { classifyPgError } from '../errors/classify-pg.js'
import { waitForConnection } from '../pool-wait.js'
import { AdapterError } from '../types.js'
import type {
  BeginOptions,
  BranchSession,
  FinishOutcome,
  ForeignPreparedBranch,
  PreparedBranch,
  ResourceAdapter,
  ResourceConfig,
  ResourceHealth,
  Xid,
} from '../types.js'
import { pgGidToXid } from '../xid/xid.js'
import type { PgClientLike } from './postgres-branch-ops.js'
import { gidOf, pgFinishPrepared, readPgIdentity } from './postgres-branch-ops.js'
import { PostgresBranchSession } from './postgres-branch-session.js'
import { claimPostgresNodeId } from './postgres-node-id-claim.js'
import type { NodeIdClaim } from '../node-id-claim.js'
import type { PgSessionHost } from './postgres-branch-session.js'

export interface PostgresAdapterOptions {
  /** Bound on the TM's own commands (COMMIT PREPARED, recovery queries); default 15000 ms. */
  readonly commandTimeoutMs?: number
}

export const DEFAULT_POOL_SIZE = 10
export const DEFAULT_CONNECT_TIMEOUT_MS = 5000
export const DEFAULT_COMMAND_TIMEOUT_MS = 15000

export const MAX_PREPARED_DISABLED_HINT =
  'set max_prepared_transactions = 100 (at least max_connections) in postgresql.conf, ' +
  'or start the server with -c max_prepared_transactions=100, then restart the server (a reload is not enough)'

/**
 * Session settings every TM session runs with, whatever the database, role
 * or server sets (ALTER DATABASE … SET): results are read as the server's
 * text (postgres-values.ts), and that text must be ISO dates (DateStyle),
 * floats with every digit (extra_float_digits), instants in UTC (TimeZone:
 * no historical offsets in seconds) and intervals in PostgreSQL's format.
 * Sent as startup options: a RESET ALL or DISCARD ALL comes back to them.
 */
export const PINNED_SESSION_OPTIONS = '-c DateStyle=ISO -c extra_float_digits=3 -c TimeZone=UTC -c IntervalStyle=postgres'

/**
 * The pool's connection string and options with the pinned settings after
 * the user's own: an `options` in the URL (pg lets it override an explicit
 * `options`) gets them appended in place, percent-encoded; otherwise they go
 * in `options`, after PGOPTIONS (which an explicit `options` replaces).
 * The later `-c` of a setting wins, so the pins hold and the rest is kept.
 */
export function pinnedConnection(url: string, env: NodeJS.ProcessEnv = process.env): { connectionString: string; options?: string } {
  const m = /([?&]options=)([^&#]*)/.exec(url)
  if (m !== null) {
    const end = m.index + m[0].length
    return { connectionString: `${url.slice(0, end)}${encodeURIComponent(` ${PINNED_SESSION_OPTIONS}`)}${url.slice(end)}` }
  }
  const user = env.PGOPTIONS?.trim() ?? ''
  return { connectionString: url, options: user === '' ? PINNED_SESSION_OPTIONS : `${user} ${PINNED_SESSION_OPTIONS}` }
}

export class PostgresAdapter implements ResourceAdapter, PgSessionHost {
  readonly kind = 'postgres' as const
  readonly name: string
  readonly commandTimeoutMs: number
  xactIdFunction = 'pg_current_xact_id_if_assigned'
  /** identity(): read at init. */
  private serverIdentity: string | undefined
  private readonly pool: pg.Pool
  private readonly poolSize: number
  private readonly connectTimeoutMs: number
  private readonly url: string

  get sessionPool(): { size: number; waitMs: number } {
    return { size: this.poolSize, waitMs: this.connectTimeoutMs }
  }

  constructor(config: ResourceConfig, options: PostgresAdapterOptions = {}) {
    this.name = config.name
    this.url = config.url
    this.poolSize = config.poolSize ?? DEFAULT_POOL_SIZE
    this.connectTimeoutMs = config.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS
    this.commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS
    this.pool = new pg.Pool({
      ...pinnedConnection(config.url),
      max: this.poolSize,
      connectionTimeoutMillis: this.connectTimeoutMs,
      keepAlive: true,
      application_name: `arbiter:${config.name}`.slice(0, 63),
    })
    // pg emits 'error' on any connected client whose server goes away, even
    // in the middle of a query, and the pool listens only while the client is
    // idle: one checked out when PostgreSQL dies would crash the TM. The query
    // in flight rejects anyway, and the error is handled there.
    this.pool.on('error', () => undefined)
    this.pool.on('connect', (client) => client.on('error', () => undefined))
  }

  private async acquire(what: string, signal?: AbortSignal): Promise<PoolClient> {
    try {
      // The pool bounds the wait by connectionTimeoutMillis itself.
      return await waitForConnection(this.pool.connect(), {
        signal,
        abortError: () => new AdapterError('retryable', this.name, `${what}: the transaction ended while waiting for a connection`),
        giveBack: (c) => c.release(),
      })
    } catch (err) {
      throw classifyPgError(err, this.name, `${what}: connect`)
    }
  }

  /** Runs `fn` on a pooled client; a client left dirty or broken is destroyed. */
  private async withClient<T>(what: string, fn: (c: PgClientLike) => Promise<T>): Promise<T> {
    const client = await this.acquire(what)
    let destroy = false
    try {
      return await fn(client)
    } catch (err) {
      const e = classifyPgError(err, this.name, what)
      if (e.errorClass === 'retryable') destroy = true
      throw e
    } finally {
      if (client.getTransactionStatus() !== 'I') destroy = true
      client.release(destroy ? true : undefined)
    }
  }

  async init(): Promise<void> {
    await this.withClient('init', async (c) => {
      const r = await c.query({
        text: "SELECT current_setting('max_prepared_transactions')::int AS max, current_setting('server_version_num')::int AS version",
        query_timeout: this.commandTimeoutMs,
      })
      const row = r.rows[0] as { max: number; version: number } | undefined
      if (row === undefined) throw new AdapterError('fatal', this.name, 'init: no answer to the settings query')
      if (row.version < 130000) this.xactIdFunction = 'txid_current_if_assigned'
      this.serverIdentity = await readPgIdentity(c, this.commandTimeoutMs)
      if (!(row.max > 0)) {
        throw new AdapterError(
          'fatal',
          this.name,
          `PostgreSQL resource "${this.name}" cannot do two-phase commit: max_prepared_transactions is ${row.max}; ${MAX_PREPARED_DISABLED_HINT}`,
          { serverCode: '55000' },
        )
      }
    })
  }

  identity(): string | undefined {
    return this.serverIdentity
  }

  async refreshIdentity(): Promise<string | undefined> {
    this.serverIdentity = await this.withClient('identity', (c) => readPgIdentity(c, this.commandTimeoutMs))
    return this.serverIdentity
  }

  async begin(xid: Xid, options?: BeginOptions): Promise<BranchSession> {
    gidOf(xid, this.name) // an illegal XID fails before a session is taken
    if (options?.signal?.aborted === true) throw new AdapterError('retryable', this.name, 'begin: aborted')
    const client = await this.acquire('begin', options?.signal)
    try {
      if (client.getTransactionStatus() !== 'I') throw new AdapterError('retryable', this.name, 'begin: pooled session was not idle')
      await client.query({ text: 'BEGIN', query_timeout: this.commandTimeoutMs } as pg.QueryConfig)
    } catch (err) {
      client.release(true)
      throw classifyPgError(err, this.name, 'BEGIN')
    }
    const pid = (client as unknown as { processID?: number | null }).processID
    return new PostgresBranchSession(this, client, xid, pid === undefined || pid === null ? '' : String(pid))
  }

  async commit(xid: Xid): Promise<FinishOutcome> {
    return this.withClient('commit', (c) => pgFinishPrepared(c, 'COMMIT', xid, this.name, this.commandTimeoutMs))
  }

  async rollback(xid: Xid): Promise<FinishOutcome> {
    return this.withClient('rollback', (c) => pgFinishPrepared(c, 'ROLLBACK', xid, this.name, this.commandTimeoutMs))
  }

  private async preparedHere(): Promise<{ gid: string; prepared: Date }[]> {
    return this.withClient('recover', async (c) => {
      const r = await c.query({
        text: 'SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database() ORDER BY prepared',
        query_timeout: this.commandTimeoutMs,
      })
      return r.rows as { gid: string; prepared: Date }[]
    })
  }

  async recover(): Promise<PreparedBranch[]> {
    const out: PreparedBranch[] = []
    for (const row of await this.preparedHere()) {
      const xid = pgGidToXid(row.gid)
      if (xid !== undefined) out.push({ xid, rawId: row.gid, preparedAt: row.prepared })
    }
    return out
  }

  async listForeign(): Promise<ForeignPreparedBranch[]> {
    return (await this.preparedHere())
      .filter((row) => pgGidToXid(row.gid) === undefined)
      .map((row) => ({ rawId: row.gid, preparedAt: row.prepared }))
  }

  async health(): Promise<ResourceHealth> {
    const pool = { poolInUse: this.pool.totalCount - this.pool.idleCount, poolSize: this.poolSize }
    try {
      const r = await this.withClient('health', (c) =>
        c.query({
          text:
            "SELECT current_setting('max_prepared_transactions')::int AS max, " +
            '(SELECT count(*) FROM pg_prepared_xacts)::int AS total, ' +
            'ARRAY(SELECT gid FROM pg_prepared_xacts WHERE database = current_database()) AS gids',
          query_timeout: this.commandTimeoutMs,
        }),
      )
      const row = r.rows[0] as { max: number; total: number; gids: string[] }
      return {
        reachable: true,
        preparedBranches: row.gids.filter((g) => pgGidToXid(g) !== undefined).length,
        preparedHeadroom: row.max - row.total,
        ...pool,
      }
    } catch (err) {
      return { reachable: false, error: err instanceof Error ? err.message : String(err), ...pool }
    }
  }

  claimNodeId(nodeId: string): Promise<NodeIdClaim> {
    return claimPostgresNodeId({ resource: this.name, url: this.url, nodeId, connectTimeoutMs: this.connectTimeoutMs, commandTimeoutMs: this.commandTimeoutMs })
  }

  /** Cancels the running statement of a branch's backend (AbortSignal on execute). */
  async cancelBackend(pid: string): Promise<void> {
    if (pid === '') return
    try {
      await this.withClient('cancel', (c) =>
        c.query({ text: 'SELECT pg_cancel_backend($1::int)', values: [pid], query_timeout: this.commandTimeoutMs }),
      )
    } catch {
      // best effort
    }
  }

  async close(): Promise<void> {
    try {
      await this.pool.end()
    } catch {
      // already ended
    }
  }
}

