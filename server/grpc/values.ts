// arbiter.v1.Value ⇄ the adapters' SqlValue. Every parameter is checked here,
// so a malformed one is an INVALID_ARGUMENT naming its position, never a
// driver error or a crash.
import type { QueryResult, SqlValue } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import { fitsInt64 } from '../../proto/int64.js'
import type { ResultSet } from '../../proto/gen/arbiter/v1/ResultSet.js'
import type { Value, Value__Output } from '../../proto/gen/arbiter/v1/Value.js'

const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/
const INTEGER = /^[+-]?\d+$/

/** Date, time and offset, as RFC 3339 writes them (a space for the T too). */
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$/

/** A UTC date and time, for any year from 0 (Date.UTC maps years 0–99 to 1900–1999). */
function utc(year: number, month: number, day: number, hours = 0, minutes = 0, seconds = 0, ms = 0): Date {
  const date = new Date(0)
  date.setUTCFullYear(year, month - 1, day)
  date.setUTCHours(hours, minutes, seconds, ms)
  return date
}

/**
 * The instant `text` names, or why it is not a timestamp this TM takes
 * exactly. Date() alone took "1" as 2001-01-01, "2020-02-30" as March 1st and
 * a time without an offset in the server's zone, and cut microseconds off;
 * Date.UTC refused 0005-01-01, and Date("0005-01-01 00:00:00Z") is 2001-05-01
 * (found by hostile testing): a timestamp is taken as given, or refused. Built
 * from its parts, never by Date's own parser.
 */
function parseRfc3339(text: string): { date: Date } | { problem: string } {
  const m = RFC3339.exec(text)
  if (!m) return { problem: 'expected e.g. 2026-03-01T12:34:56.123Z or …+02:00: date, time and offset' }
  const [, y, mo, d, h, mi, sec, fraction = '', offset = 'Z'] = m
  const day = utc(Number(y), Number(mo), Number(d))
  if (day.getUTCFullYear() !== Number(y) || day.getUTCMonth() !== Number(mo) - 1 || day.getUTCDate() !== Number(d)) return { problem: `there is no ${y}-${mo}-${d}` }
  if (Number(h) > 23 || Number(mi) > 59 || Number(sec) > 59) return { problem: 'the time is out of range (leap seconds are not taken)' }
  const [offsetHours, offsetMinutes] = offset.length === 6 ? [Number(offset.slice(1, 3)), Number(offset.slice(4))] : [0, 0]
  if (offsetHours > 23 || offsetMinutes > 59) return { problem: 'the offset is out of range' }
  if (/[1-9]/.test(fraction.slice(3))) return { problem: 'finer than a millisecond: pass it as a string and convert it in the statement' }
  const local = utc(Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(sec), Number(fraction.slice(0, 3).padEnd(3, '0')))
  // Local time is UTC plus the offset: +02:00 at 12:00 is 10:00Z.
  const offsetMs = (offset.startsWith('-') ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000
  return { date: new Date(local.getTime() - offsetMs) }
}

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
      const text = value.timestampValue!
      const parsed = parseRfc3339(text)
      if ('problem' in parsed) throw bad(`"${text.slice(0, 40)}" is not an RFC 3339 timestamp (${parsed.problem})`)
      return { kind: 'timestamp', value: parsed.date }
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

export function toProtoValue(value: SqlValue): Value {
  switch (value.kind) {
    case 'null':
      return { nullValue: true }
    case 'bool':
      return { boolValue: value.value }
    case 'int':
      // int64 on the wire: protobufjs wraps a larger one round silently (a MariaDB BIGINT UNSIGNED of 2^64-1 read as -1).
      return fitsInt64(value.value) ? { intValue: value.value.toString() } : { decimalValue: value.value.toString() }
    case 'double':
      return { doubleValue: value.value }
    case 'string':
      return { stringValue: value.value }
    case 'bytes':
      return { bytesValue: value.value }
    case 'decimal':
      return { decimalValue: value.value }
    case 'timestamp':
      return { timestampValue: value.text ?? value.value.toISOString() }
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
