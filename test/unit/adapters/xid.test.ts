import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  ARBITER_FORMAT_ID,
  XidError,
  decodeMysqlRecoverRow,
  decodePgGid,
  isArbiterXid,
  makeXid,
  mysqlRecoverRowToXid,
  newGtrid,
  parseGtrid,
  pgGidToXid,
  xidEquals,
  xidFromParts,
  xidKey,
  xidToMysqlLiteral,
  xidToPgGid,
  xidToString,
} from '../../../adapters/xid/xid.js'

const gtridArb = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((a) => Buffer.from(a))
const bqualArb = fc.uint8Array({ minLength: 0, maxLength: 64 }).map((a) => Buffer.from(a))
const formatIdArb = fc.integer({ min: 0, max: 0x7fffffff })
const xidArb = fc.tuple(formatIdArb, gtridArb, bqualArb).map(([f, g, b]) => xidFromParts(f, g, b))
const ourXidArb = fc.tuple(gtridArb, bqualArb).map(([g, b]) => xidFromParts(ARBITER_FORMAT_ID, g, b))
/** XIDs as Arbiter writes them: newGtrid's gtrid, bqual b<n> or L<n>. */
const arbiterWrittenXidArb = fc
  .tuple(fc.stringMatching(/^[A-Za-z0-9_-]{1,32}$/), fc.integer({ min: 0, max: 2 ** 40 }), fc.constantFrom('b', 'L'), fc.integer({ min: 1, max: 999_999 }))
  .map(([node, time, kind, n]) => makeXid(newGtrid(node, time), `${kind}${n}`))

/** What mysql2 gives for an XA RECOVER row of this XID. */
function recoverRow(x: { formatId: number; gtrid: Buffer; bqual: Buffer }) {
  return { formatID: x.formatId, gtrid_length: x.gtrid.length, bqual_length: x.bqual.length, data: Buffer.concat([x.gtrid, x.bqual]) }
}

describe('XID codec', () => {
  it('formatId is a fixed 31-bit number', () => {
    expect(ARBITER_FORMAT_ID).toBe(0x41524254)
    expect(ARBITER_FORMAT_ID).toBeLessThan(2 ** 31)
  })

  it('every legal XID round-trips through the PostgreSQL gid (< 200 bytes)', () => {
    fc.assert(
      fc.property(xidArb, (xid) => {
        const gid = xidToPgGid(xid)
        expect(Buffer.byteLength(gid)).toBeLessThan(200)
        const back = decodePgGid(gid)
        expect(back).toBeDefined()
        expect(xidEquals(back!, xid)).toBe(true)
        expect(pgGidToXid(gid) !== undefined).toBe(isArbiterXid(xid))
      }),
      { numRuns: 2000 },
    )
  })

  it('every legal XID round-trips through the MySQL literal and an XA RECOVER row', () => {
    fc.assert(
      fc.property(fc.oneof(ourXidArb, arbiterWrittenXidArb), (xid) => {
        const lit = xidToMysqlLiteral(xid)
        const m = /^X'([0-9a-f]*)',X'([0-9a-f]*)',(\d+)$/.exec(lit)
        expect(m).not.toBeNull()
        expect(Buffer.from(m![1]!, 'hex').equals(xid.gtrid)).toBe(true)
        expect(Buffer.from(m![2]!, 'hex').equals(xid.bqual)).toBe(true)
        expect(Number(m![3])).toBe(xid.formatId)
        const back = decodeMysqlRecoverRow(recoverRow(xid))
        expect(back !== undefined && xidEquals(back, xid)).toBe(true)
        expect(mysqlRecoverRowToXid(recoverRow(xid)) !== undefined).toBe(isArbiterXid(xid))
      }),
      { numRuns: 2000 },
    )
  })

  it('an empty bqual is X\'\' (never 0x)', () => {
    expect(xidToMysqlLiteral(makeXid('n1:abc', ''))).toBe(`X'6e313a616263',X'',${ARBITER_FORMAT_ID}`)
  })

  it('random strings never decode as ours unless canonical', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme-ascii', maxLength: 200 })), (s) => {
        const xid = pgGidToXid(s)
        if (xid !== undefined) expect(xidToPgGid(xid)).toBe(s)
      }),
      { numRuns: 5000 },
    )
    // near misses of a real gid
    const gid = xidToPgGid(makeXid('node-1:01ARZ3NDEKTSV4RRFFQ69G5FAV', 'b1'))
    expect(pgGidToXid(gid)).toBeDefined()
    for (const bad of [
      gid + ' ',
      ' ' + gid,
      gid.replace(/^\d+/, '0' + String(ARBITER_FORMAT_ID)),
      gid.replace(/^\d+/, '1'),
      gid.replace(/=/g, ''),
      gid + '_',
      gid.replace(/_/g, '-'),
      'foreign-tx-1',
      '',
      `${ARBITER_FORMAT_ID}__`, // empty gtrid
    ]) {
      expect(pgGidToXid(bad), bad).toBeUndefined()
    }
    // non-canonical base64 (padding bits set) decodes to the same bytes but is not the codec's spelling
    expect(decodePgGid(`${ARBITER_FORMAT_ID}_QR==_`)).toBeUndefined()
    expect(decodePgGid(`${ARBITER_FORMAT_ID}_QQ==_`)).toBeDefined()
  })

  it('ours means exactly what Arbiter writes: an upper-case ULID gtrid, bqual b<n> or L<n>; anything else is foreign', () => {
    fc.assert(
      fc.property(arbiterWrittenXidArb, (xid) => {
        expect(isArbiterXid(xid)).toBe(true)
        expect(pgGidToXid(xidToPgGid(xid))).toBeDefined()
      }),
    )
    const gtrid = 'node-1:01ARZ3NDEKTSV4RRFFQ69G5FAV'
    expect(isArbiterXid(makeXid(gtrid, 'b1'))).toBe(true)
    expect(isArbiterXid(makeXid(gtrid, 'L12'))).toBe(true)
    const foreign = [
      makeXid(gtrid.toLowerCase(), 'b1'), // the same ULID number, a spelling Arbiter never writes
      makeXid('node-1:01arz3ndektsv4rrffq69g5fav', 'b1'),
      makeXid('node-1:01ARZ3NDEKTSV4RRFFQ69G5FAv', 'b1'),
      makeXid('node-1:81ARZ3NDEKTSV4RRFFQ69G5FAV', 'b1'), // over the ULID range
      makeXid(gtrid, ''),
      makeXid(gtrid, 'b0'),
      makeXid(gtrid, 'b01'),
      makeXid(gtrid, 'L'),
      makeXid(gtrid, 'Lfoo'),
      makeXid(gtrid, 'x1'),
      makeXid(gtrid + ' ', 'b1'),
      xidFromParts(ARBITER_FORMAT_ID, Buffer.concat([Buffer.from(gtrid), Buffer.from([0xff])]), Buffer.from('b1')),
      xidFromParts(1, Buffer.from(gtrid), Buffer.from('b1')),
    ]
    for (const xid of foreign) {
      expect(isArbiterXid(xid), xidToString(xid)).toBe(false)
      expect(pgGidToXid(xidToPgGid(xid)), xidToString(xid)).toBeUndefined()
      expect(mysqlRecoverRowToXid(recoverRow(xid)), xidToString(xid)).toBeUndefined()
    }
    expect(() => parseGtrid(gtrid.toLowerCase())).toThrow(XidError)
  })

  it('XA RECOVER rows of other formatIds or with bad lengths are not ours', () => {
    const x = makeXid('n:01ARZ3NDEKTSV4RRFFQ69G5FAV', 'b1')
    expect(mysqlRecoverRowToXid({ ...recoverRow(x), formatID: 1 })).toBeUndefined()
    expect(mysqlRecoverRowToXid({ ...recoverRow(x), gtrid_length: 2 })).toBeUndefined()
    expect(mysqlRecoverRowToXid({ ...recoverRow(x), formatID: String(ARBITER_FORMAT_ID) })).toBeDefined()
    expect(mysqlRecoverRowToXid({ formatID: ARBITER_FORMAT_ID, gtrid_length: 0, bqual_length: 0, data: Buffer.alloc(0) })).toBeUndefined()
  })

  it('rejects illegal XIDs with a clear error', () => {
    expect(() => makeXid('', 'b')).toThrow(/gtrid must be 1\.\.64 bytes, got 0/)
    expect(() => makeXid('x'.repeat(65))).toThrow(/gtrid must be 1\.\.64 bytes, got 65/)
    expect(() => makeXid('g', 'é'.repeat(33))).toThrow(/bqual must be 0\.\.64 bytes, got 66/)
    expect(() => xidFromParts(-1, Buffer.from('g'), Buffer.alloc(0))).toThrow(XidError)
    expect(() => xidFromParts(2 ** 31, Buffer.from('g'), Buffer.alloc(0))).toThrow(/formatId/)
    expect(() => xidFromParts(1.5, Buffer.from('g'), Buffer.alloc(0))).toThrow(/formatId/)
    expect(() => xidToPgGid({ formatId: 1, gtrid: Buffer.alloc(65), bqual: Buffer.alloc(0) })).toThrow(XidError)
    expect(() => xidToMysqlLiteral({ formatId: 1, gtrid: Buffer.alloc(0), bqual: Buffer.alloc(0) })).toThrow(XidError)
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 65, maxLength: 200 }), (a) => {
        expect(() => xidFromParts(ARBITER_FORMAT_ID, Buffer.from(a), Buffer.alloc(0))).toThrow(XidError)
        expect(() => xidFromParts(ARBITER_FORMAT_ID, Buffer.from('g'), Buffer.from(a))).toThrow(XidError)
      }),
    )
  })

  it('newGtrid names the node and a ULID whose time is readable', () => {
    const before = Date.now()
    const g = newGtrid('node_A-1')
    const { nodeId, createdAt } = parseGtrid(g)
    expect(nodeId).toBe('node_A-1')
    expect(createdAt.getTime()).toBeGreaterThanOrEqual(before - 1)
    expect(createdAt.getTime()).toBeLessThanOrEqual(Date.now())
    expect(Buffer.byteLength(newGtrid('n'.repeat(32)))).toBeLessThanOrEqual(64)
    const many = Array.from({ length: 1000 }, () => newGtrid('n'))
    expect(new Set(many).size).toBe(1000)
    expect([...many].sort()).toEqual(many) // monotonic
    expect(() => newGtrid('')).toThrow(/node id/)
    expect(() => newGtrid('a:b')).toThrow(/node id/)
    expect(() => newGtrid('n'.repeat(33))).toThrow(/node id/)
    expect(() => parseGtrid('nonsense')).toThrow(XidError)
    expect(() => parseGtrid('n:NOTAULID')).toThrow(XidError)
    expect(parseGtrid(Buffer.from(g)).nodeId).toBe('node_A-1')
  })

  it('newGtrid with a time (a client naming for the TM\'s clock) carries exactly that time, ahead or behind', () => {
    const now = Date.now()
    const ahead = newGtrid('n', now + 60_000)
    expect(parseGtrid(ahead).createdAt.getTime()).toBe(now + 60_000)
    // Not monotonic: one named ahead does not drag the next ones into the future.
    expect(parseGtrid(newGtrid('n', now - 5)).createdAt.getTime()).toBe(now - 5)
    expect(parseGtrid(newGtrid('n')).createdAt.getTime()).toBeLessThanOrEqual(Date.now())
    const many = Array.from({ length: 1000 }, () => newGtrid('n', now))
    expect(new Set(many).size).toBe(1000)
  })

  it('an XID owns its memory: one block for both parts, not a slice of Node\'s shared pool (which a long-lived XID would pin)', () => {
    const x = xidFromParts(ARBITER_FORMAT_ID, Buffer.from('node:01ABC'), Buffer.from('b1'))
    expect(x.gtrid.buffer).toBe(x.bqual.buffer)
    expect(x.gtrid.buffer.byteLength).toBe('node:01ABC'.length + 2)
    expect(x.gtrid.toString()).toBe('node:01ABC')
    expect(x.bqual.toString()).toBe('b1')
    expect(xidFromParts(ARBITER_FORMAT_ID, Buffer.from('g'), Buffer.alloc(0)).bqual.length).toBe(0)
  })

  it('xidKey, xidEquals and xidToString', () => {
    const a = makeXid('n:1', 'b')
    expect(xidKey(a)).toBe(xidToPgGid(a))
    expect(xidEquals(a, makeXid('n:1', 'b'))).toBe(true)
    expect(xidEquals(a, makeXid('n:1', 'c'))).toBe(false)
    expect(xidToString(a)).toBe(`n:1,b,${ARBITER_FORMAT_ID}`)
    expect(xidToString(xidFromParts(1, Buffer.from([0, 255]), Buffer.alloc(0)))).toBe('0x00ff,,1')
  })
})
