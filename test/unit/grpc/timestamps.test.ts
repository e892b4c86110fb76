// Timestamp parameters in years 0000–0099 (server/grpc/values.ts). Found by
// hostile testing: Date.UTC maps years 0–99 to 1900–1999, so 0005-01-01 was
// refused as "there is no 0005-01-01"; and Date's own parser reads
// "0005-01-01 00:00:00Z" (a space for the T, which RFC 3339 allows) as 2001.
import { describe, expect, it } from 'vitest'
import { fromProtoValue, toProtoValue } from '../../../server/grpc/values.js'
import type { Value__Output } from '../../../proto/gen/arbiter/v1/Value.js'

const timestamp = (text: string): Value__Output => ({ kind: 'timestampValue', timestampValue: text })

/** What the TM takes `text` as, written back as the wire does. */
function roundTrip(text: string): string | undefined {
  return toProtoValue(fromProtoValue(timestamp(text), 1)).timestampValue
}

describe('timestamps in years 0000–0099', () => {
  it.each([
    ['0005-01-01T00:00:00Z', '0005-01-01T00:00:00.000Z'],
    ['0005-01-01 00:00:00Z', '0005-01-01T00:00:00.000Z'],
    ['0000-01-01T00:00:00.000Z', '0000-01-01T00:00:00.000Z'],
    ['0000-02-29T12:00:00Z', '0000-02-29T12:00:00.000Z'], // year 0 is a leap year (proleptic Gregorian)
    ['0099-12-31t23:59:59.123z', '0099-12-31T23:59:59.123Z'],
    ['0050-06-15 12:00:00-05:30', '0050-06-15T17:30:00.000Z'],
    ['0001-01-01T01:00:00+02:00', '0000-12-31T23:00:00.000Z'],
    ['2026-03-01 12:34:56.1+02:00', '2026-03-01T10:34:56.100Z'],
  ])('%s is taken as %s', (text, instant) => {
    expect(roundTrip(text)).toBe(instant)
  })

  it.each([
    ['0005-02-29T00:00:00Z', /there is no 0005-02-29/],
    ['0100-02-29T00:00:00Z', /there is no 0100-02-29/],
    ['0000-02-30T00:00:00Z', /there is no 0000-02-30/],
    ['0042-13-01T00:00:00Z', /there is no 0042-13-01/],
    ['0042-01-01T24:00:00Z', /time is out of range/],
    ['0042-01-01T00:00:00+24:00', /offset is out of range/],
    ['0042-01-01T00:00:00', /date, time and offset/],
  ])('%s is still refused', (text, why) => {
    expect(() => fromProtoValue(timestamp(text), 3)).toThrow(why)
  })
})
