// The adapters' readings of server text and their SQL literals, without a server.
import { describe, expect, it } from 'vitest'
import { fromMysqlDateText, plainDecimal } from '../../../adapters/mysql/mysql-values.js'
import { PINNED_SESSION_OPTIONS, pinnedConnection } from '../../../adapters/postgres/postgres-adapter.js'
import { fromPgText } from '../../../adapters/postgres/postgres-values.js'

describe('plainDecimal (MariaDB reads a literal with an exponent as a DOUBLE)', () => {
  it('writes the exponent out in plain digits, exactly', () => {
    expect(plainDecimal('1234567890123456789012345e-5')).toBe('12345678901234567890.12345')
    expect(plainDecimal('1e+21')).toBe('1000000000000000000000')
    expect(plainDecimal('1.2345678901234567890123e22')).toBe('12345678901234567890123')
    expect(plainDecimal('-12.5E-3')).toBe('-0.0125')
    expect(plainDecimal('+.5e1')).toBe('5')
    expect(plainDecimal('5.e0')).toBe('5')
    expect(plainDecimal('0012.50e1')).toBe('125.0')
    expect(plainDecimal('-0e9')).toBe('-0')
  })
  it('keeps text without an exponent as it is and refuses an absurd exponent', () => {
    expect(plainDecimal('12.50')).toBe('12.50')
    expect(plainDecimal('-0.0')).toBe('-0.0')
    expect(() => plainDecimal('1e100000')).toThrow(TypeError)
  })
})

describe('fromMysqlDateText', () => {
  it('reads real dates as UTC timestamps, microseconds as exact text', () => {
    expect(fromMysqlDateText('2024-02-29')).toEqual({ kind: 'timestamp', value: new Date('2024-02-29T00:00:00Z') })
    expect(fromMysqlDateText('0001-01-01 00:00:00')).toEqual({ kind: 'timestamp', value: new Date('0001-01-01T00:00:00Z') })
    expect(fromMysqlDateText('2024-01-01 12:34:56.120000')).toEqual({ kind: 'timestamp', value: new Date('2024-01-01T12:34:56.120Z') })
    expect(fromMysqlDateText('2024-01-01 12:34:56.1234')).toEqual({
      kind: 'timestamp',
      value: new Date('2024-01-01T12:34:56.123Z'),
      text: '2024-01-01T12:34:56.123400Z',
    })
  })
  it('keeps anything that is no real day as its exact text', () => {
    for (const text of ['0000-00-00', '0000-00-00 00:00:00', '2024-00-10', '2024-05-00 10:00:00', '2023-02-29', '2024-04-31', '0000-01-01', '2024-01-01 24:00:00', 'garbage']) {
      expect(fromMysqlDateText(text)).toEqual({ kind: 'string', value: text })
    }
  })
})

describe('fromPgText timestamptz offsets', () => {
  it('reads an offset with seconds exactly (as UTC on the wire: RFC 3339 has no seconds in offsets)', () => {
    expect(fromPgText('1850-06-01 12:19:32+00:19:32', 1184)).toEqual({ kind: 'timestamp', value: new Date('1850-06-01T12:00:00Z') })
    expect(fromPgText('1850-06-01 07:03:58.5-04:56:02', 1184)).toEqual({ kind: 'timestamp', value: new Date('1850-06-01T12:00:00.500Z') })
    expect(fromPgText('1850-06-01 12:19:32.123456+00:19:32', 1184)).toEqual({
      kind: 'timestamp',
      value: new Date('1850-06-01T12:00:00.123Z'),
      text: '1850-06-01T12:00:00.123456Z',
    })
    expect(fromPgText('2024-01-01 17:30:00+05:30', 1184)).toEqual({ kind: 'timestamp', value: new Date('2024-01-01T12:00:00Z') })
    expect(fromPgText('2024-01-01 12:00:00.000001+00', 1184)).toEqual({
      kind: 'timestamp',
      value: new Date('2024-01-01T12:00:00Z'),
      text: '2024-01-01T12:00:00.000001+00:00',
    })
    expect(fromPgText('infinity', 1184)).toEqual({ kind: 'string', value: 'infinity' })
  })
})

describe('pinnedConnection', () => {
  it("puts the pinned settings after the URL's options, or after PGOPTIONS", () => {
    expect(pinnedConnection('postgres://h/db', {})).toEqual({ connectionString: 'postgres://h/db', options: PINNED_SESSION_OPTIONS })
    expect(pinnedConnection('postgres://h/db', { PGOPTIONS: '-c work_mem=8MB' })).toEqual({
      connectionString: 'postgres://h/db',
      options: `-c work_mem=8MB ${PINNED_SESSION_OPTIONS}`,
    })
    const { connectionString, options } = pinnedConnection('postgres://h/db?sslmode=disable&options=-c%20search_path%3Da%2Cb&x=1', {})
    expect(options).toBeUndefined()
    expect(new URL(connectionString).searchParams.get('options')).toBe(`-c search_path=a,b ${PINNED_SESSION_OPTIONS}`)
    expect(new URL(connectionString).searchParams.get('x')).toBe('1')
  })
})
