// JS ⇄ arbiter.v1.Value conversions of the client.
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, decimal, double, fromProtoValue, json, toProtoValue } from '../../../client/index.js'

describe('toProtoValue', () => {
  it('maps each JS type to its wire type', () => {
    expect(toProtoValue(null, 1)).toEqual({ nullValue: true })
    expect(toProtoValue(undefined, 1)).toEqual({ nullValue: true })
    expect(toProtoValue(true, 1)).toEqual({ boolValue: true })
    expect(toProtoValue(42, 1)).toEqual({ intValue: '42' })
    expect(toProtoValue(-0, 1)).toEqual({ intValue: '0' })
    expect(toProtoValue(1.5, 1)).toEqual({ doubleValue: 1.5 })
    expect(toProtoValue(2n ** 62n, 1)).toEqual({ intValue: '4611686018427387904' })
    expect(toProtoValue('x', 1)).toEqual({ stringValue: 'x' })
    expect(toProtoValue(new Uint8Array([1, 2]), 1)).toEqual({ bytesValue: Buffer.from([1, 2]) })
    expect(toProtoValue(Buffer.from('hi'), 1)).toEqual({ bytesValue: Buffer.from('hi') })
    expect(toProtoValue(new Date('2026-01-02T03:04:05.678Z'), 1)).toEqual({ timestampValue: '2026-01-02T03:04:05.678Z' })
    expect(toProtoValue({ a: [1, null] }, 1)).toEqual({ jsonValue: '{"a":[1,null]}' })
    expect(toProtoValue([1, 'two'], 1)).toEqual({ jsonValue: '[1,"two"]' })
    expect(toProtoValue(Object.create(null) as Record<string, unknown>, 1)).toEqual({ jsonValue: '{}' })
  })

  it('helpers type a value explicitly', () => {
    expect(toProtoValue(decimal('12.50'), 1)).toEqual({ decimalValue: '12.50' })
    expect(toProtoValue(decimal(3n), 1)).toEqual({ decimalValue: '3' })
    expect(toProtoValue(json('a string'), 1)).toEqual({ jsonValue: '"a string"' })
    expect(toProtoValue(json(null), 1)).toEqual({ jsonValue: 'null' })
    expect(toProtoValue(double(1), 1)).toEqual({ doubleValue: 1 })
  })

  it('integral numbers beyond int64 travel as double; bigints beyond int64 are refused', () => {
    expect(toProtoValue(1e300, 1)).toEqual({ doubleValue: 1e300 })
    expect(() => toProtoValue(2n ** 63n, 3)).toThrow(/parameter 3: .* int64/)
  })

  it('refuses what cannot be sent, naming the parameter', () => {
    expect(() => toProtoValue(Number.NaN, 2)).toThrow(InvalidArgumentError)
    expect(() => toProtoValue(new Date('nope'), 2)).toThrow(/parameter 2: invalid Date/)
    expect(() => toProtoValue(new Map() as never, 4)).toThrow(/parameter 4: a Map cannot be sent/)
    expect(() => toProtoValue((() => 1) as never, 1)).toThrow(/function/)
    expect(() => decimal('12,5')).toThrow(InvalidArgumentError)
    expect(() => json(undefined)).toThrow(InvalidArgumentError)
    expect(() => double(Infinity)).toThrow(InvalidArgumentError)
  })
})

describe('fromProtoValue', () => {
  it('maps each wire type to JS', () => {
    expect(fromProtoValue({ kind: 'nullValue', nullValue: true })).toBe(null)
    expect(fromProtoValue({ kind: 'boolValue', boolValue: false })).toBe(false)
    expect(fromProtoValue({ kind: 'intValue', intValue: '9007199254740991' })).toBe(9007199254740991)
    expect(fromProtoValue({ kind: 'intValue', intValue: '9007199254740992' })).toBe(9007199254740992n)
    expect(fromProtoValue({ kind: 'intValue', intValue: '-9223372036854775808' })).toBe(-(2n ** 63n))
    expect(fromProtoValue({ kind: 'doubleValue', doubleValue: 0.25 })).toBe(0.25)
    expect(fromProtoValue({ kind: 'decimalValue', decimalValue: '12.50' })).toBe('12.50')
    expect(fromProtoValue({ kind: 'timestampValue', timestampValue: '2026-01-02T03:04:05.678Z' })).toEqual(new Date('2026-01-02T03:04:05.678Z'))
    expect(fromProtoValue({ kind: 'jsonValue', jsonValue: '{"a":1}' })).toEqual({ a: 1 })
    expect(fromProtoValue({ kind: 'bytesValue', bytesValue: Buffer.from('x') })).toEqual(Buffer.from('x'))
    expect(fromProtoValue({ kind: 'stringValue', stringValue: 's' })).toBe('s')
    expect(fromProtoValue({})).toBe(null)
  })
})
