// The Redis commands a branch may run through execute(): buffered writes
// (SET, DEL, INCRBY, HSET, HDEL) and immediate reads (GET, HGET, EXISTS).
import { AdapterError } from '../types.js'
import type { SqlValue } from '../types.js'
import { fitsInt64 } from '../../proto/int64.js'

export type WriteOpName = 'SET' | 'DEL' | 'INCRBY' | 'HSET' | 'HDEL'

/** One buffered write; args[0] is the key. */
export interface WriteOp {
  readonly op: WriteOpName
  readonly args: readonly Buffer[]
}

export type ReadCommand = { readonly cmd: 'GET'; readonly key: Buffer } | { readonly cmd: 'HGET'; readonly key: Buffer; readonly field: Buffer } | { readonly cmd: 'EXISTS'; readonly keys: Buffer[] }

export type ParsedCommand = { readonly kind: 'write'; readonly ops: WriteOp[] } | { readonly kind: 'read'; readonly read: ReadCommand }

/** A SqlValue as a Redis argument (binary-safe). */
export function toRedisArg(v: SqlValue, resource: string): Buffer {
  switch (v.kind) {
    case 'null':
      throw new AdapterError('fatal', resource, 'Redis has no NULL argument')
    case 'bool':
      return Buffer.from(v.value ? '1' : '0')
    case 'int':
      return Buffer.from(v.value.toString())
    case 'double':
      return Buffer.from(String(v.value))
    case 'bytes':
      return v.value
    case 'timestamp':
      return Buffer.from(v.value.toISOString())
    case 'string':
    case 'decimal':
    case 'json':
      return Buffer.from(v.value, 'utf8')
  }
}

/** An integer as Redis reads one: no '+', no leading zero, no "-0" (its range is checked by isRedisInteger). */
const INTEGER_RE = /^(?:0|-?[1-9]\d{0,18})$/

function isRedisInteger(text: string): boolean {
  return INTEGER_RE.test(text) && fitsInt64(BigInt(text))
}

const KNOWN = new Set(['SET', 'DEL', 'INCRBY', 'HSET', 'HDEL', 'GET', 'HGET', 'EXISTS'])

/** Parses one execute() call. Unsupported commands and bad arities are 'fatal' (invalid argument). */
export function parseCommand(sql: string, params: readonly SqlValue[], resource: string): ParsedCommand {
  const cmd = sql.trim().toUpperCase()
  const args = params.map((p) => toRedisArg(p, resource))
  const bad = (why: string): AdapterError => new AdapterError('fatal', resource, `${cmd}: ${why}`)
  const [key] = args
  switch (cmd) {
    case 'SET':
      if (args.length !== 2) throw bad('want SET key value (options are not supported)')
      return { kind: 'write', ops: [{ op: 'SET', args }] }
    case 'DEL':
      if (args.length < 1) throw bad('want DEL key [key …]')
      return { kind: 'write', ops: args.map((k) => ({ op: 'DEL' as const, args: [k] })) }
    case 'INCRBY':
      if (args.length !== 2 || !isRedisInteger(args[1]?.toString() ?? '')) throw bad('want INCRBY key integer (a 64-bit integer as Redis writes one: no leading zero, no "+")')
      return { kind: 'write', ops: [{ op: 'INCRBY', args }] }
    case 'HSET':
      if (args.length < 3 || args.length % 2 !== 1) throw bad('want HSET key field value [field value …]')
      return { kind: 'write', ops: [{ op: 'HSET', args }] }
    case 'HDEL':
      if (args.length < 2) throw bad('want HDEL key field [field …]')
      return { kind: 'write', ops: [{ op: 'HDEL', args }] }
    case 'GET':
      if (key === undefined || args.length !== 1) throw bad('want GET key')
      return { kind: 'read', read: { cmd: 'GET', key } }
    case 'HGET':
      if (key === undefined || args[1] === undefined || args.length !== 2) throw bad('want HGET key field')
      return { kind: 'read', read: { cmd: 'HGET', key, field: args[1] } }
    case 'EXISTS':
      if (args.length < 1) throw bad('want EXISTS key [key …]')
      return { kind: 'read', read: { cmd: 'EXISTS', keys: args } }
    default: {
      // "SET k 1" in the statement text is the usual first try: say where the arguments go.
      const [name = '', ...inline] = cmd.split(/\s+/)
      const hint = inline.length > 0 && KNOWN.has(name) ? `; the statement is the command name alone (${JSON.stringify(name)}), its arguments go in params` : ''
      throw new AdapterError(
        'fatal',
        resource,
        `unsupported Redis command ${JSON.stringify(cmd)}: branches support SET, DEL, INCRBY, HSET, HDEL (buffered) and GET, HGET, EXISTS${hint}`,
      )
    }
  }
}

/** GET over the server's value and the branch's own buffered writes (read-your-writes); values as the bytes Redis holds. */
export function overlayGet(server: Buffer | null, key: Buffer, ops: readonly WriteOp[]): Buffer | null {
  let v = server
  for (const o of ops) {
    if (!o.args[0]?.equals(key)) continue
    if (o.op === 'SET') v = o.args[1] ?? null
    else if (o.op === 'DEL') v = null
    else if (o.op === 'INCRBY') {
      const text = v?.toString('latin1') ?? '0'
      // Found by hostile testing: a read after it said "Cannot convert abc to a BigInt". Redis itself would refuse it.
      if (!isRedisInteger(text)) {
        throw new Error(`an INCRBY of key ${JSON.stringify(key.toString('utf8').slice(0, 100))} earlier in this transaction is over a value Redis does not read as an integer (${JSON.stringify(text.slice(0, 40))}): it would fail with "value is not an integer or out of range"`)
      }
      v = Buffer.from((BigInt(text) + BigInt(o.args[1]?.toString('latin1') ?? '0')).toString())
    }
    else v = null // HSET/HDEL turn it into a hash: GET would fail; show nothing
  }
  return v
}

export function overlayHget(server: Buffer | null, key: Buffer, field: Buffer, ops: readonly WriteOp[]): Buffer | null {
  let v = server
  for (const o of ops) {
    if (!o.args[0]?.equals(key)) continue
    if (o.op === 'DEL' || o.op === 'SET' || o.op === 'INCRBY') v = null
    else if (o.op === 'HSET') {
      for (let i = 1; i + 1 < o.args.length; i += 2) if (o.args[i]?.equals(field)) v = o.args[i + 1] ?? null
    } else if (o.op === 'HDEL') {
      if (o.args.slice(1).some((f) => f.equals(field))) v = null
    }
  }
  return v
}

/** Existence after the buffered writes; undefined when the server's answer stands (no write, or only HDEL). */
export function overlayExists(key: Buffer, ops: readonly WriteOp[]): boolean | undefined {
  let e: boolean | undefined
  for (const o of ops) {
    if (!o.args[0]?.equals(key)) continue
    if (o.op === 'DEL') e = false
    else if (o.op !== 'HDEL') e = true
  }
  return e
}
