// Client value conversion at the edges (found by hostile testing).
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError, toProtoValue } from '../../../client/index.js'
import { fromResultSet } from '../../../client/values.js'

describe('client values at the edges', () => {
  it('refuses a string with a lone surrogate, naming the parameter; a whole emoji passes', () => {
    for (const bad of ['\uDE00 party', 'x\uD83D', 'a\uDC00b']) {
      expect(() => toProtoValue(bad, 3)).toThrow(InvalidArgumentError)
      expect(() => toProtoValue(bad, 3)).toThrow(/^parameter 3: the string has a lone surrogate/)
    }
    expect(toProtoValue('😀 party', 1)).toEqual({ stringValue: '😀 party' })
  })

  it('keeps a column named __proto__ as an own property of an ordinary row object', () => {
    const { rows } = fromResultSet<Record<string, unknown>>({
      columns: [
        { name: '__proto__', type: 'int4' },
        { name: 'x', type: 'int4' },
      ],
      rows: [{ values: [{ kind: 'intValue', intValue: '7' }, { kind: 'intValue', intValue: '8' }] }],
      affectedRows: '0',
    } as never)
    const row = rows[0]!
    expect(Object.keys(row)).toEqual(['__proto__', 'x'])
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(7)
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
  })
})
