// What makes two Runs the same Run (server/grpc/run-repeats.ts): their statements and parameters, bytes included.
import { describe, expect, it } from 'vitest'
import { runDigest } from '../../../server/grpc/run-repeats.js'

type Statements = Parameters<typeof runDigest>[0]
const run = (...statements: object[]): Statements => statements as unknown as Statements

describe('runDigest', () => {
  it('is the same for the same statements and parameters, whatever object carries them', () => {
    const a = run({ resource: 'pg', sql: 'UPDATE t SET v = $1', params: [{ intValue: '1', value: 'intValue' }, { bytesValue: Buffer.from([1, 2, 3]), value: 'bytesValue' }] })
    const b = run({ resource: 'pg', sql: 'UPDATE t SET v = $1', params: [{ intValue: '1', value: 'intValue' }, { bytesValue: new Uint8Array([1, 2, 3]), value: 'bytesValue' }] })
    expect(runDigest(b)).toBe(runDigest(a))
  })

  it('differs when any statement, parameter, byte or resource differs, also where a plain concatenation would not', () => {
    const base = { resource: 'pg', sql: 'SELECT $1', params: [{ stringValue: 'ab', value: 'stringValue' }] }
    const variants = [
      run({ ...base, resource: 'maria' }),
      run({ ...base, sql: 'SELECT $1 ' }),
      run({ ...base, params: [{ stringValue: 'a', value: 'stringValue' }, { stringValue: 'b', value: 'stringValue' }] }),
      run({ ...base, params: [{ intValue: 'ab', value: 'intValue' }] }),
      run({ ...base, params: [{ bytesValue: Buffer.from('ab'), value: 'bytesValue' }] }),
      run(base, base),
      run(),
    ]
    const digests = new Set([runDigest(run(base)), ...variants.map(runDigest)])
    expect(digests.size).toBe(variants.length + 1)
  })
})
