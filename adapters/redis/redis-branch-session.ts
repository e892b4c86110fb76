// A Redis branch: writes are buffered in memory until prepare; reads run at
// once and see the branch's own writes. See redis-adapter.ts for the
// emulation and its limits.
import { isUtf8 } from 'node:buffer'
import { AdapterError } from '../types.js'
import type { BranchSession, ExecuteOptions, FinishOutcome, QueryResult, SqlValue, Vote, Xid } from '../types.js'
import { xidToString } from '../xid/xid.js'
import type { ParsedCommand, WriteOp } from './redis-commands.js'
import { overlayExists, overlayGet, overlayHget, parseCommand } from './redis-commands.js'

/** What the prepare script answered: ok; or not, with why, and (one phase only) whether some writes were applied. */
export type PrepareResult = { readonly ok: true } | { readonly ok: false; readonly reason: string; readonly partial?: boolean }

/** What a session needs from its adapter. */
export interface RedisSessionHost {
  readonly name: string
  /** Arbiter's own keys (locks, prepared records, node-id claims) are under it: a statement may not touch them. */
  readonly keyPrefix: string
  readCommand(args: (string | Buffer)[]): Promise<unknown>
  /** Runs the prepare script; mode 'apply' applies at once (one phase). */
  runPrepare(xid: Xid, ops: readonly WriteOp[], mode: 'prepare' | 'apply'): Promise<PrepareResult>
  commit(xid: Xid): Promise<FinishOutcome>
  rollback(xid: Xid): Promise<FinishOutcome>
}

type State = 'active' | 'prepared' | 'finished' | 'in-doubt'

/** A reply read with callBuffer: the value's bytes exactly. */
const bytesOf = (v: unknown): Buffer | null =>
  v === null || v === undefined ? null : Buffer.isBuffer(v) ? v : Buffer.from(typeof v === 'string' ? v : JSON.stringify(v), 'utf8')
/** A value as a string when its bytes are valid UTF-8 (text), else as the bytes themselves (never a lossy decoding). */
const cell = (v: Buffer | null): SqlValue => (v === null ? { kind: 'null' } : isUtf8(v) ? { kind: 'string', value: v.toString('utf8') } : { kind: 'bytes', value: v })

export class RedisBranchSession implements BranchSession {
  private state: State = 'active'
  private readonly ops: WriteOp[] = []
  private failure: AdapterError | undefined

  constructor(
    private readonly host: RedisSessionHost,
    readonly xid: Xid,
    readonly serverSessionId: string,
  ) {}

  private ensureActive(what: string): void {
    if (this.state !== 'active') {
      throw new AdapterError('fatal', this.host.name, `${what}: branch ${xidToString(this.xid)} is ${this.state}`)
    }
  }

  async execute(sql: string, params: readonly SqlValue[], options?: ExecuteOptions): Promise<QueryResult> {
    this.ensureActive('execute')
    if (options?.signal?.aborted === true) throw new AdapterError('retryable', this.host.name, 'execute: aborted')
    const parsed = parseCommand(sql, params, this.host.name)
    refuseOwnKeys(parsed, this.host.keyPrefix, this.host.name)
    if (parsed.kind === 'write') {
      this.ops.push(...parsed.ops)
      return { columns: [], rows: [], affectedRows: parsed.ops.length }
    }
    const r = parsed.read
    try {
      if (r.cmd === 'GET') {
        const v = overlayGet(bytesOf(await this.host.readCommand(['GET', r.key])), r.key, this.ops)
        return { columns: [{ name: 'value', type: 'string' }], rows: [[cell(v)]], affectedRows: 0 }
      }
      if (r.cmd === 'HGET') {
        const v = overlayHget(bytesOf(await this.host.readCommand(['HGET', r.key, r.field])), r.key, r.field, this.ops)
        return { columns: [{ name: 'value', type: 'string' }], rows: [[cell(v)]], affectedRows: 0 }
      }
      let n = 0n
      for (const key of r.keys) {
        const local = overlayExists(key, this.ops)
        if (local === undefined) n += BigInt(Number(await this.host.readCommand(['EXISTS', key])))
        else if (local) n += 1n
      }
      return { columns: [{ name: 'exists', type: 'int' }], rows: [[{ kind: 'int', value: n }]], affectedRows: 0 }
    } catch (err) {
      if (err instanceof AdapterError) throw err
      // e.g. INCRBY buffered over a value that is not an integer
      const e = new AdapterError('vote-no', this.host.name, `${r.cmd}: ${err instanceof Error ? err.message : String(err)}`, { cause: err })
      this.failure ??= e
      throw e
    }
  }

  async isReadOnly(): Promise<boolean | undefined> {
    return this.ops.length === 0
  }

  async prepare(): Promise<Vote> {
    this.ensureActive('prepare')
    if (this.failure !== undefined) {
      this.state = 'finished'
      return { vote: 'no', reason: `a command of the branch failed: ${this.failure.message}`, error: this.failure }
    }
    if (this.ops.length === 0) {
      this.state = 'finished'
      return { vote: 'read-only' }
    }
    this.state = 'in-doubt'
    let r
    try {
      r = await this.host.runPrepare(this.xid, this.ops, 'prepare')
    } catch (err) {
      if (err instanceof AdapterError && err.errorClass === 'vote-no') {
        this.state = 'finished'
        return { vote: 'no', reason: err.message, error: err }
      }
      throw err // in doubt: the script may have run; rollback() removes it by XID
    }
    if (!r.ok) {
      this.state = 'finished'
      return { vote: 'no', reason: r.reason }
    }
    this.state = 'prepared'
    return { vote: 'prepared' }
  }

  async commitOnePhase(): Promise<void> {
    this.ensureActive('commitOnePhase')
    if (this.failure !== undefined) {
      this.state = 'finished'
      throw new AdapterError('vote-no', this.host.name, `rolled back: ${this.failure.message}`, { cause: this.failure })
    }
    this.state = 'finished'
    if (this.ops.length === 0) return
    const r = await this.host.runPrepare(this.xid, this.ops, 'apply')
    // Written in part (a key changed by another writer between the check and the write): never "rolled back".
    if (!r.ok && r.partial) throw new AdapterError('fatal', this.host.name, `applied in part: ${r.reason}`)
    if (!r.ok) throw new AdapterError('vote-no', this.host.name, `rolled back: ${r.reason}`)
  }

  async commit(): Promise<FinishOutcome> {
    if (this.state === 'finished') return 'already-done'
    if (this.state !== 'prepared') throw new AdapterError('fatal', this.host.name, `commit: branch ${xidToString(this.xid)} is ${this.state}`)
    const out = await this.host.commit(this.xid)
    this.state = 'finished'
    return out
  }

  async rollback(): Promise<FinishOutcome> {
    if (this.state === 'finished') return 'already-done'
    if (this.state === 'active') {
      this.ops.length = 0
      this.state = 'finished'
      return 'done'
    }
    const out = await this.host.rollback(this.xid)
    this.state = 'finished'
    return out
  }

  async release(): Promise<void> {
    // Nothing to return: branches share the adapter's connection.
  }
}

/** Arbiter's own keys under a resource's keyPrefix: the locks, the prepared set and records, the node-id claims, its identity. */
const OWN_KEYS = ['lock:', 'prepared', 'node:', 'identity']

/**
 * Found by hostile testing: a statement could SET a lock key (every later
 * write to that key then voted no, for good) or DEL another branch's
 * prepared record (its commit then read "already done": a false COMMITTED).
 */
export function refuseOwnKeys(parsed: ParsedCommand, prefix: string, resource: string): void {
  const keys = parsed.kind === 'write' ? parsed.ops.map((o) => o.args[0]) : parsed.read.cmd === 'EXISTS' ? parsed.read.keys : [parsed.read.key]
  for (const key of keys) {
    const own = key !== undefined && OWN_KEYS.find((name) => key.subarray(0, Buffer.byteLength(prefix + name)).equals(Buffer.from(prefix + name)))
    if (own) {
      throw new AdapterError(
        'fatal',
        resource,
        `key ${JSON.stringify(key.toString('utf8').slice(0, 100))} is one of Arbiter's own (${prefix}${own}…: its locks, prepared records, node-id claims and identity): refused`,
      )
    }
  }
}
