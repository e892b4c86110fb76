// The XID as operators type it (arbiter admin resolve --xid).
import { describe, expect, it } from 'vitest'
import { ARBITER_FORMAT_ID } from '../../../adapters/xid/xid.js'
import { formatXid, parseXid } from '../../../server/cli/xid-text.js'

describe('parseXid', () => {
  it('reads what in-doubt prints, and gtrid,bqual alone as Arbiter\'s', () => {
    const xid = parseXid('n1:01J0000000000000000000000,b1,1095910996')
    expect([xid.formatId, xid.gtrid.toString(), xid.bqual.toString()]).toEqual([1095910996, 'n1:01J0000000000000000000000', 'b1'])
    expect(parseXid('g,0x00ff').formatId).toBe(ARBITER_FORMAT_ID)
    expect(parseXid('g,0x00ff').bqual).toEqual(Buffer.from([0, 255]))
    expect(formatXid(parseXid('g,b,7'))).toBe('g,b,7')
  })

  it('a formatId that is not a whole number says what is accepted (found by hostile testing: -1 was "not a number")', () => {
    for (const bad of ['-1', '1.5', 'x', ' 1', '']) {
      expect(() => parseXid(`g,b,${bad}`), bad).toThrow(`formatId "${bad}" must be a whole number from 0 to 2147483647`)
    }
    expect(() => parseXid('g')).toThrow(/must be "gtrid,bqual,formatId"/)
  })
})
