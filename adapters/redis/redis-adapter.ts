// The Redis resource adapter: an emulated prepare.
//
// Redis has no prepare. A branch's writes (SET, DEL, INCRBY, HSET, HDEL) are
// buffered in the TM; prepare runs ONE Lua script that atomically
//   1. checks the lock key `<prefix>lock:<key>` of every written key: held by
//      another XID → vote no, with the reason;
//   2. checks the writes can apply (INCRBY on an integer, hash ops on a hash);
//   3. takes the locks (value: the XID's key) and stores the write set under
//      `<prefix>prepared:<xidKey>`, adding xidKey to the set `<prefix>prepared`.
// commit(xid) applies the stored writes, releases the locks and deletes the
// record in one script (a missing record → 'already-done'); rollback(xid)
// releases and deletes; recover() lists the set. A branch without writes votes
// read-only. commitOnePhase checks the locks and applies in one script.
//
// Honest limits:
// - Durability is the server's: a decision survives a Redis crash only with
//   AOF and `appendfsync always` (everysec may lose the last second, RDB-only
//   more). A prepared record lost that way is a lost branch.
// - Locks bind only Arbiter's branches: clients that write to Redis directly
//   are not stopped, and can make a commit fail half-way (the script applies
//   what it can; the transaction then ends HEURISTIC, never COMMITTED).
// - No isolation for reads: GET/HGET/EXISTS read the current value (plus the
//   branch's own buffered writes); they take no lock and see no snapshot.
// - One Redis instance (no Cluster: the script touches keys in many slots).
// The metadata prefix (default "arbiter:") is configurable per resource:
// option `keyPrefix`, or `?arbiterPrefix=…` in the resource URL.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { classifyRedisError } from '../errors/classify-redis.js'
import { AdapterError, PartlyCommittedError } from '../types.js'
import type {
  BeginOptions,
  BranchSession,
  FinishOutcome,
  ForeignPreparedBranch,
  PreparedBranch,
  ResourceAdapter,
  ResourceConfig,
  ResourceHealth,
  SqlValue,
  Xid,
} from '../types.js'
import { pgGidToXid, xidKey } from '../xid/xid.js'
import { RedisBranchSession, refuseOwnKeys } from './redis-branch-session.js'
import { claimRedisNodeId } from './redis-node-id-claim.js'
import { within, type NodeIdClaim } from '../node-id-claim.js'
import type { RedisSessionHost } from './redis-branch-session.js'
import { parseCommand, type WriteOp } from './redis-commands.js'
import { FINISH_SCRIPT, PREPARE_SCRIPT, sha1 } from './redis-scripts.js'
import type { PrepareResult } from './redis-branch-session.js'

export interface RedisAdapterOptions {
  /** Prefix of Arbiter's own keys (locks, prepared records); default "arbiter:". */
  readonly keyPrefix?: string
  /** Bound on every command; default 15000 ms. */
  readonly commandTimeoutMs?: number
}

const PREPARE_SHA = sha1(PREPARE_SCRIPT)
const FINISH_SHA = sha1(FINISH_SCRIPT)

function splitUrl(url: string): { url: string; prefix: string | undefined } {
  try {
    const u = new URL(url)
    const prefix = u.searchParams.get('arbiterPrefix') ?? undefined
    u.searchParams.delete('arbiterPrefix')
    return { url: u.toString(), prefix }
  } catch {
    return { url, prefix: undefined }
  }
}

export class RedisAdapter implements ResourceAdapter, RedisSessionHost {
  readonly kind = 'redis' as const
  readonly name: string
  readonly keyPrefix: string
  private readonly redis: Redis
  private clientId = ''
  /** identity(): read at init. */
  private serverIdentity: string | undefined
  private readonly url: string
  private readonly connectTimeoutMs: number
  private readonly commandTimeoutMs: number

  constructor(config: ResourceConfig, options: RedisAdapterOptions = {}) {
    this.name = config.name
    const { url, prefix } = splitUrl(config.url)
    this.url = url
    this.connectTimeoutMs = config.connectTimeoutMs ?? 5000
    this.commandTimeoutMs = options.commandTimeoutMs ?? 15000
    this.keyPrefix = options.keyPrefix ?? prefix ?? 'arbiter:'
    this.redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: this.connectTimeoutMs,
      commandTimeout: this.commandTimeoutMs,
      // A command fails after one reconnect attempt instead of waiting forever.
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 200, 2000),
    })
    // Connection errors surface on the commands; keep ioredis from logging them as unhandled.
    this.redis.on('error', () => undefined)
  }

  private key(...parts: (string | Buffer)[]): Buffer {
    return Buffer.concat([Buffer.from(this.keyPrefix), ...parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : p))])
  }

  private get setKey(): Buffer {
    return this.key('prepared')
  }

  private recordKey(xid: Xid): Buffer {
    return this.key('prepared:', xidKey(xid))
  }

  private async evalScript(script: string, sha: string, keys: Buffer[], args: (string | Buffer)[]): Promise<unknown> {
    try {
      return await this.redis.evalsha(sha, keys.length, ...keys, ...args)
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err
      return this.redis.eval(script, keys.length, ...keys, ...args)
    }
  }

  async init(): Promise<void> {
    try {
      if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect()
      this.clientId = String(await this.redis.call('CLIENT', 'ID'))
      await this.refreshIdentity()
      await this.redis.script('LOAD', PREPARE_SCRIPT)
      await this.redis.script('LOAD', FINISH_SCRIPT)
    } catch (err) {
      throw classifyRedisError(err, this.name, 'init')
    }
  }

  identity(): string | undefined {
    return this.serverIdentity
  }

  /**
   * Made once per Redis server, database and prefix, and kept there: another server, database or prefix has
   * another (or none yet). Its persistence is the prepared records' own: a Redis that lost it lost them too.
   */
  async refreshIdentity(): Promise<string | undefined> {
    await this.redis.set(this.key('identity'), randomUUID(), 'NX')
    const id = await this.redis.get(this.key('identity'))
    this.serverIdentity = id === null ? undefined : `redis:${id}`
    return this.serverIdentity
  }

  /** The command's shape and keys, before any branch begins (found by hostile testing: a bad one came back as a rollback, not as bad input). */
  checkStatement(sql: string, params: readonly SqlValue[]): void {
    refuseOwnKeys(parseCommand(sql, params, this.name), this.keyPrefix, this.name)
  }

  async begin(xid: Xid, options?: BeginOptions): Promise<BranchSession> {
    try {
      xidKey(xid)
    } catch (err) {
      throw new AdapterError('fatal', this.name, `illegal XID: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
    }
    if (options?.signal?.aborted === true) throw new AdapterError('retryable', this.name, 'begin: aborted')
    return new RedisBranchSession(this, xid, this.clientId)
  }

  async readCommand(args: (string | Buffer)[]): Promise<unknown> {
    const [cmd, ...rest] = args
    try {
      // Binary-safe: the value's bytes, never decoded here (a non-UTF-8 value decoded as text is corrupted).
      return await this.redis.callBuffer(String(cmd), ...rest)
    } catch (err) {
      throw classifyRedisError(err, this.name, String(cmd))
    }
  }

  async runPrepare(xid: Xid, ops: readonly WriteOp[], mode: 'prepare' | 'apply'): Promise<PrepareResult> {
    const owner = xidKey(xid)
    const dataKeys = new Map<string, Buffer>()
    for (const o of ops) {
      const k = o.args[0]
      if (k !== undefined) dataKeys.set(k.toString('latin1'), k)
    }
    const lockKeys = [...dataKeys.values()].map((k) => this.key('lock:', k))
    const flat: (string | Buffer)[] = []
    for (const o of ops) flat.push(o.op, String(o.args.length), ...o.args)
    let r: unknown
    try {
      r = await this.evalScript(PREPARE_SCRIPT, PREPARE_SHA, [this.recordKey(xid), this.setKey, ...lockKeys], [owner, mode, String(lockKeys.length), ...flat])
    } catch (err) {
      throw classifyRedisError(err, this.name, mode === 'prepare' ? 'prepare' : 'commitOnePhase')
    }
    const [ok, reason] = r as [number, (string | Buffer)?]
    if (ok === 1) return { ok: true }
    return { ok: false, reason: String(reason ?? 'refused'), ...(ok === 2 && { partial: true }) }
  }

  private async finish(xid: Xid, mode: 'commit' | 'rollback'): Promise<FinishOutcome> {
    let r: unknown
    try {
      r = await this.evalScript(FINISH_SCRIPT, FINISH_SHA, [this.recordKey(xid), this.setKey], [xidKey(xid), this.key('lock:'), mode])
    } catch (err) {
      throw classifyRedisError(err, this.name, mode)
    }
    const [found, ...errors] = r as [number, ...unknown[]]
    if (found === 0) return 'already-done'
    if (errors.length > 0) {
      // The script applied what it could: finished, in part (never retried: the record is gone).
      throw new PartlyCommittedError(this.name, `commit applied in part, a key was changed outside Arbiter: ${errors.map(String).join('; ')}`)
    }
    return 'done'
  }

  async commit(xid: Xid): Promise<FinishOutcome> {
    return this.finish(xid, 'commit')
  }

  async rollback(xid: Xid): Promise<FinishOutcome> {
    return this.finish(xid, 'rollback')
  }

  private async members(): Promise<string[]> {
    try {
      return (await this.redis.smembersBuffer(this.setKey)).map((b) => b.toString('utf8'))
    } catch (err) {
      throw classifyRedisError(err, this.name, 'recover')
    }
  }

  async recover(): Promise<PreparedBranch[]> {
    const out: PreparedBranch[] = []
    for (const m of await this.members()) {
      const xid = pgGidToXid(m)
      if (xid !== undefined) out.push({ xid, rawId: m })
    }
    return out
  }

  async listForeign(): Promise<ForeignPreparedBranch[]> {
    return (await this.members()).filter((m) => pgGidToXid(m) === undefined).map((m) => ({ rawId: m }))
  }

  async health(): Promise<ResourceHealth> {
    try {
      const n = await this.redis.scard(this.setKey)
      // No pool: one multiplexed connection, and branches buffer their commands until prepare (poolSize does not apply).
      return { reachable: true, preparedBranches: n }
    } catch (err) {
      return { reachable: false, error: classifyRedisError(err, this.name, 'health').message }
    }
  }

  claimNodeId(nodeId: string): Promise<NodeIdClaim> {
    return claimRedisNodeId({ resource: this.name, url: this.url, keyPrefix: this.keyPrefix, nodeId, connectTimeoutMs: this.connectTimeoutMs, commandTimeoutMs: this.commandTimeoutMs })
  }

  async close(): Promise<void> {
    // QUIT waits for an answer; a paused server gives none until the command timeout (found by hostile testing:
    // a graceful stop took 16 s). A second is plenty for one that answers; then the socket is cut.
    await within(this.redis.quit(), 1000, 'QUIT').catch(() => this.redis.disconnect())
  }
}
