// SqlValue ⇄ mysql2 (text protocol). The pool is configured so that nothing
// is rounded or moved: supportBigNumbers + bigNumberStrings (BIGINT, DECIMAL
// as text), jsonStrings, dateStrings (DATE/DATETIME/TIMESTAMP as the server's
// text, read here strictly: mysql2's own parser rolls '2024-02-30' over to
// March, reads '0000-00-00' as 1899 and year 0050 as 1950), and Date
// parameters written in UTC (timezone 'Z') to sessions whose time_zone is
// '+00:00' (mysql-adapter.ts).
import type { ColumnInfo, QueryResult, SqlValue } from '../types.js'

/** mysql2 column types (protocol MYSQL_TYPE_*) by number. */
const TYPE_NAMES: Record<number, string> = {
  0: 'DECIMAL',
  1: 'TINY',
  2: 'SHORT',
  3: 'LONG',
  4: 'FLOAT',
  5: 'DOUBLE',
  6: 'NULL',
  7: 'TIMESTAMP',
  8: 'LONGLONG',
  9: 'INT24',
  10: 'DATE',
  11: 'TIME',
  12: 'DATETIME',
  13: 'YEAR',
  14: 'NEWDATE',
  15: 'VARCHAR',
  16: 'BIT',
  245: 'JSON',
  246: 'NEWDECIMAL',
  247: 'ENUM',
  248: 'SET',
  249: 'TINY_BLOB',
  250: 'MEDIUM_BLOB',
  251: 'LONG_BLOB',
  252: 'BLOB',
  253: 'VAR_STRING',
  254: 'STRING',
  255: 'GEOMETRY',
}

const DATE_TYPES = new Set([7, 10, 12, 14])
const INTEGER_TYPES = new Set([1, 2, 3, 8, 9, 13])
const DECIMAL_TYPES = new Set([0, 246])
const FLOAT_TYPES = new Set([4, 5])

/** What mysql2 tells about a result column. */
export interface MysqlFieldLike {
  readonly name: string
  readonly columnType?: number
  readonly type?: number
}

const DECIMAL_RE = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/

/**
 * A decimal with an exponent as plain digits, exactly ('1234567e-5' →
 * '12.34567', '1e+21' → '1000000000000000000000'): MariaDB reads a literal
 * with an exponent as a DOUBLE, which rounds it. Text without one is kept.
 */
export function plainDecimal(text: string): string {
  const m = /^([+-]?)(\d*)(?:\.(\d*))?[eE]([+-]?\d+)$/.exec(text)
  if (m === null) return text
  const sign = m[1] === '-' ? '-' : ''
  const intPart = m[2] ?? ''
  const fracPart = m[3] ?? ''
  const digits = intPart + fracPart
  if (!/[1-9]/.test(digits)) return `${sign}0`
  const exp = Number(m[4])
  // Where the decimal point goes, counted in digits from the left.
  const point = intPart.length + exp
  // DECIMAL holds 65 digits: a point this far out is no DECIMAL value (and would be a huge literal).
  if (!Number.isSafeInteger(exp) || point > 1000 || point < -1000) throw new TypeError(`decimal exponent out of range: ${JSON.stringify(text.slice(0, 40))}`)
  let whole: string
  let fraction: string
  if (point <= 0) {
    whole = '0'
    fraction = '0'.repeat(-point) + digits
  } else if (point >= digits.length) {
    whole = digits + '0'.repeat(point - digits.length)
    fraction = ''
  } else {
    whole = digits.slice(0, point)
    fraction = digits.slice(point)
  }
  whole = whole.replace(/^0+(?=\d)/, '')
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`
}

/** A raw SQL fragment for mysql2's formatter (sqlstring honours toSqlString). */
function raw(text: string): { toSqlString(): string } {
  return { toSqlString: () => text }
}

/** One SqlValue as a mysql2 placeholder value. Throws a TypeError for values MySQL cannot hold. */
export function toMysqlParam(v: SqlValue): unknown {
  switch (v.kind) {
    case 'null':
      return null
    case 'bool':
      return v.value
    case 'int':
      return raw(v.value.toString())
    case 'double':
      if (!Number.isFinite(v.value)) throw new TypeError(`MySQL has no ${String(v.value)} double value`)
      return v.value
    case 'decimal':
      if (!DECIMAL_RE.test(v.value)) throw new TypeError(`not a decimal number: ${JSON.stringify(v.value)}`)
      return raw(plainDecimal(v.value))
    case 'string':
    case 'json':
      return v.value
    case 'bytes':
      return v.value
    case 'timestamp':
      return v.value
  }
}

function columnType(f: MysqlFieldLike): number {
  return f.columnType ?? f.type ?? -1
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?: (\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28) : [4, 6, 9, 11].includes(month) ? 30 : 31
}

/**
 * A DATE, DATETIME or TIMESTAMP as the server wrote it, read as UTC (the
 * TM's sessions run with time_zone '+00:00'). A real date becomes a timestamp
 * (microseconds past Date's milliseconds travel as `text`, as PostgreSQL's
 * do); anything else (zero dates and zero parts such as '2024-00-10', days a
 * month does not have, year 0000) comes back as its exact text, never rolled
 * over to another day.
 */
export function fromMysqlDateText(text: string): SqlValue {
  const m = DATE_TEXT.exec(text)
  if (m === null) return { kind: 'string', value: text }
  const [year, month, day, hour = 0, minute = 0, second = 0] = m.slice(1, 7).map((p) => (p === undefined ? undefined : Number(p)))
  if (year === undefined || month === undefined || day === undefined) return { kind: 'string', value: text }
  const real = year >= 1 && month >= 1 && month <= 12 && day >= 1 && day <= daysInMonth(year, month) && hour <= 23 && minute <= 59 && second <= 59
  if (!real) return { kind: 'string', value: text }
  const fraction = m[7] ?? ''
  const base = `${m[1]}-${m[2]}-${m[3]}T${m[4] ?? '00'}:${m[5] ?? '00'}:${m[6] ?? '00'}`
  const value = new Date(`${base}.${fraction.slice(0, 3).padEnd(3, '0')}Z`)
  if (Number.isNaN(value.getTime())) return { kind: 'string', value: text }
  if (!/[1-9]/.test(fraction.slice(3))) return { kind: 'timestamp', value }
  return { kind: 'timestamp', value, text: `${base}.${fraction.padEnd(6, '0')}Z` }
}

/** One cell as mysql2 returned it, typed by its column. */
export function fromMysqlValue(value: unknown, type: number): SqlValue {
  if (value === null || value === undefined) return { kind: 'null' }
  if (Buffer.isBuffer(value)) return { kind: 'bytes', value }
  if (DATE_TYPES.has(type) && typeof value === 'string') return fromMysqlDateText(value)
  if (value instanceof Date) {
    return Number.isNaN(value.getTime()) ? { kind: 'string', value: String(value) } : { kind: 'timestamp', value }
  }
  if (INTEGER_TYPES.has(type) && (typeof value === 'number' || typeof value === 'string' || typeof value === 'bigint')) {
    return { kind: 'int', value: BigInt(value) }
  }
  if (DECIMAL_TYPES.has(type) && (typeof value === 'string' || typeof value === 'number')) return { kind: 'decimal', value: String(value) }
  if (FLOAT_TYPES.has(type) && (typeof value === 'string' || typeof value === 'number')) return { kind: 'double', value: Number(value) }
  if (type === 245) return { kind: 'json', value: typeof value === 'string' ? value : JSON.stringify(value) }
  if (typeof value === 'number') return { kind: 'double', value }
  if (typeof value === 'boolean') return { kind: 'bool', value }
  return { kind: 'string', value: typeof value === 'string' ? value : JSON.stringify(value) }
}

export function mysqlColumns(fields: readonly MysqlFieldLike[]): ColumnInfo[] {
  return fields.map((f) => ({ name: f.name, type: TYPE_NAMES[columnType(f)] ?? `type:${columnType(f)}` }))
}

/** A mysql2 `query()` answer (rowsAsArray) as a QueryResult. */
export function toQueryResult(rows: unknown, fields: readonly MysqlFieldLike[] | undefined): QueryResult {
  if (!Array.isArray(rows)) {
    const affected = (rows as { affectedRows?: number } | null)?.affectedRows ?? 0
    return { columns: [], rows: [], affectedRows: affected }
  }
  const fs = fields ?? []
  const out = (rows as unknown[][]).map((row) => fs.map((f, i) => fromMysqlValue(row[i], columnType(f))))
  return { columns: mysqlColumns(fs), rows: out, affectedRows: 0 }
}
