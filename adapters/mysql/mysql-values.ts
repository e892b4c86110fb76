// SqlValue ⇄ mysql2 (text protocol). The pool is configured so that nothing
// is rounded: supportBigNumbers + bigNumberStrings (BIGINT, DECIMAL as text),
// jsonStrings, dates as Date in UTC (timezone 'Z').
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
      return raw(v.value)
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

/** One cell as mysql2 returned it, typed by its column. */
export function fromMysqlValue(value: unknown, type: number): SqlValue {
  if (value === null || value === undefined) return { kind: 'null' }
  if (Buffer.isBuffer(value)) return { kind: 'bytes', value }
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
