// JavaScript values ⇄ arbiter.v1.Value. Integers travel as int64 text and
// exact decimals as strings, so nothing is rounded on the way; results come
// back as number when that is exact, else bigint.
import type { Value, Value__Output } from '../proto/gen/arbiter/v1/Value.js'
import type { ResultSet__Output } from '../proto/gen/arbiter/v1/ResultSet.js'
import { fitsInt64 } from '../proto/int64.js'
import { InvalidArgumentError } from './errors.js'

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/** A parameter with an explicit wire type; make one with decimal(), json() or double(). */
export class TypedValue {
  constructor(
    /** The wire type. */
    readonly kind: 'decimal' | 'json' | 'double',
    /** The value as it travels: decimal and json as text, double as a number. */
    readonly value: string | number,
  ) {
    Object.freeze(this)
  }
}

/** A JSON object or array parameter (sent as a JSON document). */
export type JsonParam = readonly unknown[] | { readonly [key: string]: unknown }

/**
 * What tx.execute() accepts as a parameter: null/undefined → NULL, boolean,
 * integer number or bigint → int64, other number → double, string,
 * Buffer/Uint8Array → bytes, Date → timestamp, plain object/array → JSON,
 * or a TypedValue from decimal() / json() / double().
 */
export type SqlParam = null | undefined | boolean | number | bigint | string | Uint8Array | Date | TypedValue | JsonParam

/** An exact decimal (NUMERIC/DECIMAL), e.g. decimal('12.50'); a number or bigint is written out as text. */
export function decimal(value: string | number | bigint): TypedValue {
  const text = typeof value === 'string' ? value.trim() : String(value)
  if (!DECIMAL.test(text)) throw new InvalidArgumentError(`decimal(): "${text.slice(0, 40)}" is not a decimal number`)
  return new TypedValue('decimal', text)
}

/** Any JSON-serializable value sent as a JSON document (also a string, number or null at the top level). */
export function json(value: unknown): TypedValue {
  const text = JSON.stringify(value)
  if (text === undefined) throw new InvalidArgumentError('json(): the value is not JSON-serializable')
  return new TypedValue('json', text)
}

/** A number sent as double even when it is integral (e.g. double(1) for a FLOAT column). */
export function double(value: number): TypedValue {
  if (!Number.isFinite(value)) throw new InvalidArgumentError(`double(): ${value} is not finite`)
  return new TypedValue('double', value)
}

function isPlainJson(value: object): value is JsonParam {
  if (Array.isArray(value)) return true
  const proto = Object.getPrototypeOf(value) as unknown
  return proto === Object.prototype || proto === null
}

/** String.prototype.isWellFormed (Node 20; the ES2024 lib is not in this project's typings). */
function isWellFormed(text: string): boolean {
  return (text as unknown as { isWellFormed(): boolean }).isWellFormed()
}

function loneSurrogateAt(text: string): number {
  return /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.exec(text)?.index ?? -1
}

function bigintValue(value: bigint, position: number): Value {
  if (!fitsInt64(value)) throw new InvalidArgumentError(`parameter ${position}: ${value} does not fit in int64`)
  return { intValue: value.toString() }
}

/** One JS parameter as a wire Value; `position` (1-based) names it in errors. */
export function toProtoValue(value: SqlParam, position: number): Value {
  if (value === null || value === undefined) return { nullValue: true }
  switch (typeof value) {
    case 'boolean':
      return { boolValue: value }
    case 'bigint':
      return bigintValue(value, position)
    case 'string':
      // A lone surrogate (text cut inside an emoji) has no UTF-8 form: protobuf could not send it.
      if (!isWellFormed(value)) throw new InvalidArgumentError(`parameter ${position}: the string has a lone surrogate (at index ${loneSurrogateAt(value)}), which has no UTF-8 form; use toWellFormed() or cut strings at whole characters`)
      return { stringValue: value }
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(`parameter ${position}: ${value} is not a finite number`)
      if (Number.isInteger(value)) {
        const big = BigInt(value)
        if (fitsInt64(big)) return { intValue: big.toString() }
      }
      return { doubleValue: value }
    case 'object':
      break
    default:
      throw new InvalidArgumentError(`parameter ${position}: a ${typeof value} cannot be sent`)
  }
  if (value instanceof TypedValue) {
    if (value.kind === 'decimal') return { decimalValue: String(value.value) }
    if (value.kind === 'json') return { jsonValue: String(value.value) }
    return { doubleValue: Number(value.value) }
  }
  if (value instanceof Uint8Array) return { bytesValue: Buffer.from(value.buffer, value.byteOffset, value.byteLength) }
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw new InvalidArgumentError(`parameter ${position}: invalid Date`)
    return { timestampValue: value.toISOString() }
  }
  if (isPlainJson(value)) {
    try {
      return { jsonValue: JSON.stringify(value) }
    } catch (error) {
      throw new InvalidArgumentError(`parameter ${position}: not JSON-serializable: ${(error as Error).message}`, { cause: error })
    }
  }
  const name = (value as { constructor?: { name?: string } }).constructor?.name ?? 'object'
  throw new InvalidArgumentError(`parameter ${position}: a ${name} cannot be sent; pass a plain object or array (JSON) or use json()`)
}

/**
 * One wire Value as JS: int → number when a safe integer else bigint,
 * double → number, decimal → string, timestamp → Date, json → parsed value,
 * bytes → Buffer, null → null.
 */
export function fromProtoValue(value: Value__Output): unknown {
  switch (value.kind) {
    case 'boolValue':
      return value.boolValue ?? false
    case 'intValue': {
      const text = value.intValue ?? '0'
      const n = Number(text)
      return Number.isSafeInteger(n) ? n : BigInt(text)
    }
    case 'doubleValue':
      return value.doubleValue ?? 0
    case 'stringValue':
      return value.stringValue ?? ''
    case 'bytesValue':
      return value.bytesValue ?? Buffer.alloc(0)
    case 'decimalValue':
      return value.decimalValue ?? '0'
    case 'timestampValue':
      return new Date(value.timestampValue ?? 0)
    case 'jsonValue':
      return JSON.parse(value.jsonValue ?? 'null') as unknown
    default:
      return null
  }
}

/** A result column: its name and the server's type name where the driver tells it ("int4", "VARCHAR"). */
export interface Column {
  readonly name: string
  readonly type: string
}

/** One statement's result. */
export interface ExecuteResult<Row = Record<string, unknown>> {
  /** The rows, as objects keyed by column name (a repeated name keeps the last column's value). */
  readonly rows: Row[]
  readonly columns: Column[]
  /** Rows inserted, updated or deleted. */
  readonly affectedRows: number
}

/** A wire ResultSet as rows of objects. */
export function fromResultSet<Row>(result: ResultSet__Output | null): ExecuteResult<Row> {
  if (!result) return { rows: [], columns: [], affectedRows: 0 }
  const columns = result.columns.map((c) => ({ name: c.name, type: c.type }))
  const rows = result.rows.map((row) => {
    const out: Record<string, unknown> = {}
    columns.forEach((c, i) => {
      const cell = row.values[i]
      const value = cell === undefined ? null : fromProtoValue(cell)
      // A column named __proto__ is an own property like any other (an assignment would set the prototype instead).
      if (c.name === '__proto__') Object.defineProperty(out, c.name, { value, writable: true, enumerable: true, configurable: true })
      else out[c.name] = value
    })
    return out as Row
  })
  return { rows, columns, affectedRows: Number(result.affectedRows) }
}
