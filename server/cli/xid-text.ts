// The XID as operators type it and as `arbiter admin in-doubt` prints it:
// the adapters' xidToString form `gtrid,bqual,formatId`, where a part that
// is not printable ASCII (or holds a comma) is written `0x<hex>`. Arbiter's
// own XIDs are always printable: `node:ULID,b1,1095910996`. The formatId
// may be left out (`gtrid,bqual`): it is then Arbiter's.
import type { Xid } from '../../adapters/types.js'
import { ARBITER_FORMAT_ID, xidFromParts, xidToString } from '../../adapters/xid/xid.js'

export { xidToString as formatXid }

function part(text: string): Buffer {
  if (/^0x([0-9a-fA-F]{2})*$/.test(text)) return Buffer.from(text.slice(2), 'hex')
  return Buffer.from(text, 'latin1')
}

/** Parses the text form; throws an Error saying what is wrong. */
export function parseXid(text: string): Xid {
  const parts = text.split(',')
  if (parts.length !== 2 && parts.length !== 3) {
    throw new Error(`XID "${text}" must be "gtrid,bqual,formatId" (as in-doubt prints it) or "gtrid,bqual"`)
  }
  const [gtrid, bqual, formatText] = parts as [string, string, string | undefined]
  const formatId = formatText === undefined ? ARBITER_FORMAT_ID : Number(formatText)
  // A negative formatId (-1 is XA's null XID) is a number, but never a prepared branch's: say what is accepted.
  if (formatText !== undefined && !/^\d+$/.test(formatText)) {
    throw new Error(`XID "${text}": formatId "${formatText}" must be a whole number from 0 to 2147483647 (in-doubt prints it last)`)
  }
  return xidFromParts(formatId, part(gtrid), part(bqual))
}

/** A wire Xid (gtrid and bqual as Buffers) in the text form; "" when absent. */
export function wireXidText(xid: { formatId: number; gtrid: Buffer; bqual: Buffer } | null | undefined): string {
  if (!xid || xid.gtrid.length === 0) return ''
  return xidToString(xid)
}
