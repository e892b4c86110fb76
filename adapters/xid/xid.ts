// The XID codec (ARCHITECTURE.md, "The XID"). One fixed formatId marks
// Arbiter's branches; gtrid names the owning TM node and a ULID (so an
// orphan's age is readable from its name); bqual names the branch.
//
// Two server spellings, both reversible:
// - PostgreSQL gid: `${formatId}_${base64(gtrid)}_${base64(bqual)}` (pgjdbc
//   style, standard alphabet: never contains `_`; at most 188 bytes < 200).
//   Decoding is canonical: a gid is ours only when it re-encodes to itself.
// - MySQL/MariaDB: `X'<gtrid hex>',X'<bqual hex>',<formatId>` (empty bqual is
//   `X''`: MariaDB rejects an empty `0x`).
import { randomFillSync } from 'node:crypto'
import { decodeTime, isValid as isValidUlid, monotonicFactory, ulid } from 'ulid'
import type { Xid } from '../types.js'

/** Arbiter's XA formatId: ASCII "ARBT" (0x41524254), below 2^31 as MySQL requires. */
export const ARBITER_FORMAT_ID = 0x41524254

export const GTRID_MIN_BYTES = 1
export const GTRID_MAX_BYTES = 64
export const BQUAL_MIN_BYTES = 0
export const BQUAL_MAX_BYTES = 64
/** The largest formatId MySQL accepts (2^31 - 1). */
export const FORMAT_ID_MAX = 0x7fffffff

const NODE_ID_RE = /^[A-Za-z0-9_-]{1,32}$/
const random = pooledRandom()
const nextUlid = monotonicFactory(random)

/**
 * Uniform floats in [0, 1) from a pooled crypto buffer: the ulid package asks
 * for one per character, and one randomFillSync per character was a visible
 * share of the TM's CPU per Begin.
 */
function pooledRandom(): () => number {
  const pool = new Uint32Array(1024)
  let next = pool.length
  return () => {
    if (next === pool.length) {
      randomFillSync(pool)
      next = 0
    }
    return pool[next++]! / 0x1_0000_0000
  }
}

/** Illegal XID input: says what is wrong. */
export class XidError extends Error {
  override readonly name = 'XidError'
}

function checkFormatId(formatId: number): void {
  if (!Number.isInteger(formatId) || formatId < 0 || formatId > FORMAT_ID_MAX) {
    throw new XidError(`formatId must be an integer in 0..${FORMAT_ID_MAX}, got ${String(formatId)}`)
  }
}

function checkPart(what: 'gtrid' | 'bqual', part: Buffer, min: number, max: number): void {
  if (!Buffer.isBuffer(part)) throw new XidError(`${what} must be a Buffer`)
  if (part.length < min || part.length > max) {
    throw new XidError(`${what} must be ${min}..${max} bytes, got ${part.length}`)
  }
}

/** Validates and freezes an XID from raw parts (copied). Throws XidError when illegal. */
export function xidFromParts(formatId: number, gtrid: Buffer, bqual: Buffer): Xid {
  checkFormatId(formatId)
  checkPart('gtrid', gtrid, GTRID_MIN_BYTES, GTRID_MAX_BYTES)
  checkPart('bqual', bqual, BQUAL_MIN_BYTES, BQUAL_MAX_BYTES)
  // One memory block of its own for both parts: XIDs live as long as their
  // transactions, and a small Buffer.from() copy would sit in Node's shared
  // 8 KiB pool, keeping a whole pool block alive (measured: ~5 KiB per
  // retained transaction).
  const own = Buffer.allocUnsafeSlow(gtrid.length + bqual.length)
  gtrid.copy(own, 0)
  bqual.copy(own, gtrid.length)
  return Object.freeze({ formatId, gtrid: own.subarray(0, gtrid.length), bqual: own.subarray(gtrid.length) })
}

/** Throws XidError when `xid` is not a legal XID. */
export function assertXid(xid: Xid): void {
  checkFormatId(xid.formatId)
  checkPart('gtrid', xid.gtrid, GTRID_MIN_BYTES, GTRID_MAX_BYTES)
  checkPart('bqual', xid.bqual, BQUAL_MIN_BYTES, BQUAL_MAX_BYTES)
}

/**
 * A new global transaction id `${nodeId}:${ULID}`; nodeId is 1–32 chars of
 * [A-Za-z0-9_-]. The ULID's time is `timeMs` (default now): a client naming
 * transactions for a TM passes the TM's clock. With timeMs the ULID is not
 * monotonic (a monotonic one never goes back in time: after one named a
 * little ahead, all the next would be too); 80 random bits keep it unique.
 */
export function newGtrid(nodeId: string, timeMs?: number): string {
  if (!NODE_ID_RE.test(nodeId)) {
    throw new XidError(`node id must be 1-32 characters of [A-Za-z0-9_-], got ${JSON.stringify(nodeId)}`)
  }
  return `${nodeId}:${timeMs === undefined ? nextUlid() : ulid(timeMs, random)}`
}

/**
 * A ULID exactly as Arbiter writes one: 26 upper-case Crockford base-32
 * characters, the first at most 7. The ulid package also accepts lower case
 * (the same number), but a gtrid is ours only in the spelling we write.
 */
const CANONICAL_ULID_RE = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/

/** When a gtrid made by newGtrid was named (its ULID's time, ms), or undefined for anything else. */
export function gtridNamedAt(gtrid: string): number | undefined {
  try {
    return parseGtrid(gtrid).createdAt.getTime()
  } catch {
    return undefined
  }
}

/** Splits a gtrid made by newGtrid. Throws XidError for anything else. */
export function parseGtrid(gtrid: string | Buffer): { nodeId: string; createdAt: Date } {
  const text = typeof gtrid === 'string' ? gtrid : gtrid.toString('utf8')
  const colon = text.lastIndexOf(':')
  const nodeId = colon < 0 ? '' : text.slice(0, colon)
  const id = colon < 0 ? '' : text.slice(colon + 1)
  if (!NODE_ID_RE.test(nodeId) || !CANONICAL_ULID_RE.test(id) || !isValidUlid(id)) {
    throw new XidError(`not an Arbiter gtrid (want "<nodeId>:<ULID in upper case>"): ${JSON.stringify(text)}`)
  }
  return { nodeId, createdAt: new Date(decodeTime(id)) }
}

/** The branch qualifiers Arbiter writes: b<n> for the TM's branches, L<n> for local ones (n from 1, no leading zero). */
const BQUAL_RE = /^[bL][1-9][0-9]{0,9}$/

/** A local branch qualifier an application may choose (CommitRequest.local_votes): L<n>. */
export function isLocalBqual(bqual: Buffer): boolean {
  return bqual.length >= 2 && bqual[0] === 0x4c /* L */ && BQUAL_RE.test(bqual.toString('latin1'))
}

/**
 * True only for an XID Arbiter could have written: its formatId, a gtrid in
 * newGtrid's exact spelling (ASCII, upper-case ULID) and a bqual b<n> or
 * L<n>. Everything else on a resource is foreign and never touched.
 */
export function isArbiterXid(xid: Xid): boolean {
  if (xid.formatId !== ARBITER_FORMAT_ID || !BQUAL_RE.test(xid.bqual.toString('latin1'))) return false
  const text = xid.gtrid.toString('latin1')
  try {
    parseGtrid(text)
  } catch {
    return false
  }
  return true
}

/** An Arbiter XID from gtrid and bqual text (UTF-8). Throws XidError when illegal. */
export function makeXid(gtridText: string, bqualText = ''): Xid {
  if (typeof gtridText !== 'string' || typeof bqualText !== 'string') {
    throw new XidError('gtrid and bqual must be strings')
  }
  return xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtridText, 'utf8'), Buffer.from(bqualText, 'utf8'))
}

/** The PostgreSQL gid: `${formatId}_${base64(gtrid)}_${base64(bqual)}`. */
export function xidToPgGid(xid: Xid): string {
  assertXid(xid)
  return `${xid.formatId}_${xid.gtrid.toString('base64')}_${xid.bqual.toString('base64')}`
}

const GID_RE = /^(0|[1-9][0-9]{0,9})_([A-Za-z0-9+/]*={0,2})_([A-Za-z0-9+/]*={0,2})$/

/**
 * Decodes a gid in the codec's spelling whatever its formatId; undefined when
 * malformed or not canonical (it must re-encode to exactly the same text).
 */
export function decodePgGid(gid: string): Xid | undefined {
  const m = GID_RE.exec(gid)
  if (m === null) return undefined
  const formatId = Number(m[1])
  const gtrid = Buffer.from(m[2] ?? '', 'base64')
  const bqual = Buffer.from(m[3] ?? '', 'base64')
  let xid: Xid
  try {
    xid = xidFromParts(formatId, gtrid, bqual)
  } catch {
    return undefined
  }
  return xidToPgGid(xid) === gid ? xid : undefined
}

/** Arbiter's XID from a PostgreSQL gid; undefined when the gid is not Arbiter's. */
export function pgGidToXid(gid: string): Xid | undefined {
  const xid = decodePgGid(gid)
  return xid !== undefined && isArbiterXid(xid) ? xid : undefined
}

/** `X'…',X'…',formatId` for XA START/END/PREPARE/COMMIT/ROLLBACK. */
export function xidToMysqlLiteral(xid: Xid): string {
  assertXid(xid)
  return `X'${xid.gtrid.toString('hex')}',X'${xid.bqual.toString('hex')}',${xid.formatId}`
}

/** One row of `XA RECOVER` (mysql2 gives numbers, or strings with bigNumberStrings). */
export interface MysqlRecoverRow {
  readonly formatID: number | string | bigint
  readonly gtrid_length: number | string | bigint
  readonly bqual_length: number | string | bigint
  readonly data: Buffer | string
}

function toInt(v: number | string | bigint): number {
  const n = typeof v === 'number' ? v : Number(v)
  return Number.isSafeInteger(n) ? n : -1
}

/** Splits an `XA RECOVER` row into an XID of any formatId; undefined when malformed. */
export function decodeMysqlRecoverRow(row: MysqlRecoverRow): Xid | undefined {
  const formatId = toInt(row.formatID)
  const gl = toInt(row.gtrid_length)
  const bl = toInt(row.bqual_length)
  const data = Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data, 'binary')
  if (gl < 0 || bl < 0 || gl + bl !== data.length) return undefined
  try {
    return xidFromParts(formatId, data.subarray(0, gl), data.subarray(gl))
  } catch {
    return undefined
  }
}

/** Arbiter's XID from an `XA RECOVER` row; undefined when it is not Arbiter's. */
export function mysqlRecoverRowToXid(row: MysqlRecoverRow): Xid | undefined {
  const xid = decodeMysqlRecoverRow(row)
  return xid !== undefined && isArbiterXid(xid) ? xid : undefined
}

/** The server-style raw id of an XA RECOVER row, for operators: `X'…',X'…',formatId`. */
export function mysqlRecoverRowRawId(row: MysqlRecoverRow): string {
  const data = Buffer.isBuffer(row.data) ? row.data : Buffer.from(row.data, 'binary')
  const gl = Math.max(0, Math.min(toInt(row.gtrid_length), data.length))
  return `X'${data.subarray(0, gl).toString('hex')}',X'${data.subarray(gl).toString('hex')}',${String(row.formatID)}`
}

const PRINTABLE_RE = /^[\x20-\x7e]*$/

function partToString(part: Buffer): string {
  const text = part.toString('latin1')
  return PRINTABLE_RE.test(text) && !text.includes(',') ? text : `0x${part.toString('hex')}`
}

/** For logs and messages: `gtrid,bqual,formatId` (hex `0x…` for non-printable parts). */
export function xidToString(xid: Xid): string {
  return `${partToString(xid.gtrid)},${partToString(xid.bqual)},${xid.formatId}`
}

export function xidEquals(a: Xid, b: Xid): boolean {
  return a.formatId === b.formatId && a.gtrid.equals(b.gtrid) && a.bqual.equals(b.bqual)
}

/** A stable, unique, reversible string key for maps and Redis keys (the gid spelling). */
export function xidKey(xid: Xid): string {
  return xidToPgGid(xid)
}
