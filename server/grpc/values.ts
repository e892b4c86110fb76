// arbiter.v1.Value ⇄ the adapters' SqlValue. Every parameter is checked here,
// so a malformed one is an INVALID_ARGUMENT naming its position, never a
// driver error or a crash.
import type { QueryResult, SqlValue } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import type { ResultSet } from '../../proto/gen/arbiter/v1/ResultSet.js'
import type { Value, Value__Output } from '../../proto/gen/arbiter/v1/Value.js'

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^[+-]?\d+$/

export function fromProtoValue(value: Value__Output, position: number): SqlValue {
  const bad = (why: string): TmError => new TmError('TM_INVALID_ARGUMENT', `parameter ${position}: ${why}`)
  switch (value.kind) {
    case 'nullValue':
      return { kind: 'null' }
    case 'boolValue':
      return { kind: 'bool', value: value.boolValue! }
    case 'intValue': {
      const text = value.intValue!
      if (!INTEGER.test(text)) throw bad(`"${text}" is not an integer`)
      return { kind: 'int', value: BigInt(text) }
    }
    case 'doubleValue': {
      if (!Number.isFinite(value.doubleValue)) throw bad('a double must be finite')
      return { kind: 'double', value: value.doubleValue! }
    }
    case 'stringValue':
      if (value.stringValue!.includes('\u0000')) throw bad('strings may not contain NUL characters')
      return { kind: 'string', value: value.stringValue! }
    case 'bytesValue':
      return { kind: 'bytes', value: value.bytesValue! }
    case 'decimalValue':
      if (!DECIMAL.test(value.decimalValue!)) throw bad(`"${value.decimalValue!.slice(0, 40)}" is not a decimal number`)
      return { kind: 'decimal', value: value.decimalValue! }
    case 'timestampValue': {
      const date = new Date(value.timestampValue!)
      if (Number.isNaN(date.getTime())) throw bad(`"${value.timestampValue!.slice(0, 40)}" is not an RFC 3339 timestamp`)
      return { kind: 'timestamp', value: date }
    }
    case 'jsonValue':
      try {
        JSON.parse(value.jsonValue!)
      } catch {
        throw bad('json_value is not valid JSON')
      }
      return { kind: 'json', value: value.jsonValue! }
    default:
      throw bad('no value set (set exactly one field of Value)')
  }
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

export function toProtoValue(value: SqlValue): Value {
  switch (value.kind) {
    case 'null':
      return { nullValue: true }
    case 'bool':
      return { boolValue: value.value }
    case 'int':
      // int64 on the wire: protobufjs wraps a larger one round silently (a MariaDB BIGINT UNSIGNED of 2^64-1 read as -1).
      return value.value >= INT64_MIN && value.value <= INT64_MAX ? { intValue: value.value.toString() } : { decimalValue: value.value.toString() }
    case 'double':
      return { doubleValue: value.value }
    case 'string':
      return { stringValue: value.value }
    case 'bytes':
      return { bytesValue: value.value }
    case 'decimal':
      return { decimalValue: value.value }
    case 'timestamp':
      return { timestampValue: value.value.toISOString() }
    case 'json':
      return { jsonValue: value.value }
  }
}

export function toResultSet(result: QueryResult): ResultSet {
  return {
    columns: result.columns.map((c) => ({ name: c.name, type: c.type })),
    rows: result.rows.map((row) => ({ values: row.map(toProtoValue) })),
    affectedRows: String(result.affectedRows),
  }
}
