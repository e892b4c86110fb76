// SqlValue ⇄ node-postgres. Results are read as the server's text (every
// type parser is the identity) and converted by the column's type OID, so no
// integer or decimal is ever rounded.
import pg from 'pg'
import type { ColumnInfo, QueryResult, SqlValue } from '../types.js'

/** Type OIDs (pg_type.oid) the conversion knows. */
const OID = {
  bool: 16,
  bytea: 17,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  text: 25,
  oid: 26,
  json: 114,
  float4: 700,
  float8: 701,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  timestamp: 1114,
  timestamptz: 1184,
  numeric: 1700,
  jsonb: 3802,
} as const

const TYPE_NAMES = new Map<number, string>(Object.entries(OID).map(([name, oid]) => [oid, name]))

/** Identity parsers: every cell arrives as the server's text (or null). */
export const RAW_TEXT_TYPES = {
  getTypeParser: () => (value: string) => value,
}

const parseBytea = pg.types.getTypeParser(OID.bytea, 'text') as (text: string) => Buffer

/** One SqlValue as a pg parameter (strings for exact numbers, ISO text for times). */
export function toPgParam(v: SqlValue): unknown {
  switch (v.kind) {
    case 'null':
      return null
    case 'bool':
      return v.value
    case 'int':
      return v.value.toString()
    case 'double':
      return Number.isNaN(v.value) ? 'NaN' : v.value === Infinity ? 'Infinity' : v.value === -Infinity ? '-Infinity' : v.value
    case 'string':
    case 'decimal':
    case 'json':
      return v.value
    case 'bytes':
      return v.value
    case 'timestamp':
      return v.value.toISOString()
  }
}

/** An offset at the end of timestamptz text: "+00", "+05:30", or with seconds ("+00:53:28", a pre-1900 local mean time). */
const OFFSET = /([+-])(\d\d)(?::?(\d\d))?(?::(\d\d))?$/

function parseTimestamp(text: string, withZone: boolean): SqlValue {
  // timestamptz text carries its offset ("+00", "+05:30", "+00:53:28"); timestamp and date
  // have none and are read as UTC. The TM's sessions run with TimeZone UTC (postgres-adapter.ts),
  // but the offset is read exactly whatever it is.
  let iso = text.replace(' ', 'T')
  let offsetSeconds = 0
  if (!withZone) iso += text.length === 10 ? 'T00:00:00Z' : 'Z'
  else {
    const m = OFFSET.exec(iso)
    if (m === null) return { kind: 'string', value: text }
    const [, sign, hh = '00', mm = '00', ss] = m
    if (ss === undefined) iso = `${iso.slice(0, m.index)}${sign}${hh}:${mm}`
    else {
      // RFC 3339 (and Date) have no seconds in an offset: read the wall clock as UTC, then move it by the offset.
      offsetSeconds = (sign === '-' ? -1 : 1) * (Number(hh) * 3600 + Number(mm) * 60 + Number(ss))
      iso = `${iso.slice(0, m.index)}Z`
    }
  }
  const wall = new Date(iso)
  if (Number.isNaN(wall.getTime())) return { kind: 'string', value: text }
  const d = offsetSeconds === 0 ? wall : new Date(wall.getTime() - offsetSeconds * 1000)
  // Microseconds past Date's milliseconds travel as the server wrote them (found by hostile testing: they were cut off).
  const fraction = /\.(\d+)/.exec(iso)?.[1] ?? ''
  if (!/[1-9]/.test(fraction.slice(3))) return { kind: 'timestamp', value: d }
  // Six digits, as every RFC 3339 reader takes them (the server drops trailing zeros); an offset with seconds as UTC.
  const exact = offsetSeconds === 0 ? iso : d.toISOString()
  return { kind: 'timestamp', value: d, text: exact.replace(/\.(\d+)/, () => `.${fraction.padEnd(6, '0')}`) }
}

/** One result cell (server text) as a SqlValue, by type OID. */
export function fromPgText(text: string | null, dataTypeID: number): SqlValue {
  if (text === null) return { kind: 'null' }
  switch (dataTypeID) {
    case OID.int2:
    case OID.int4:
    case OID.int8:
    case OID.oid:
      return { kind: 'int', value: BigInt(text) }
    case OID.float4:
    case OID.float8:
      return { kind: 'double', value: Number(text) }
    case OID.numeric:
      return { kind: 'decimal', value: text }
    case OID.bool:
      return { kind: 'bool', value: text === 't' || text === 'true' }
    case OID.bytea:
      return { kind: 'bytes', value: parseBytea(text) }
    case OID.timestamptz:
      return parseTimestamp(text, true)
    case OID.timestamp:
    case OID.date:
      return parseTimestamp(text, false)
    case OID.json:
    case OID.jsonb:
      return { kind: 'json', value: text }
    default:
      return { kind: 'string', value: text }
  }
}

/** The part of pg's FieldDef the results use (structural, so the declarations need no @types/pg). */
export interface PgFieldLike {
  name: string
  dataTypeID: number
}

export function pgColumns(fields: readonly PgFieldLike[]): ColumnInfo[] {
  return fields.map((f) => ({ name: f.name, type: TYPE_NAMES.get(f.dataTypeID) ?? `oid:${f.dataTypeID}` }))
}

/** A pg result (rowMode 'array', raw text types) as a QueryResult. */
export function toQueryResult(result: { fields?: PgFieldLike[]; rows: unknown[]; rowCount: number | null }): QueryResult {
  const fields = result.fields ?? []
  const rows = (result.rows as (string | null)[][]).map((row) =>
    fields.map((f, i) => fromPgText(row[i] ?? null, f.dataTypeID)),
  )
  return { columns: pgColumns(fields), rows, affectedRows: result.rowCount ?? 0 }
}
