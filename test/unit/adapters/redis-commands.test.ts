// The Redis statement parser: what a branch accepts, and what it says to the
// usual first tries that it refuses.
import { describe, expect, it } from 'vitest'
import { overlayGet, parseCommand } from '../../../adapters/redis/redis-commands.js'
import { AdapterError } from '../../../adapters/types.js'

const s = (value: string) => ({ kind: 'string' as const, value })

function refusal(sql: string, params = [s('k'), s('1')]): string {
  try {
    parseCommand(sql, params, 'cache')
  } catch (error) {
    expect(error).toBeInstanceOf(AdapterError)
    expect((error as AdapterError).errorClass).toBe('fatal')
    return (error as Error).message
  }
  throw new Error(`${sql} was accepted`)
}

describe('parseCommand', () => {
  it('takes the command name in the statement and its arguments in params', () => {
    expect(parseCommand('set', [s('k'), s('1')], 'cache')).toEqual({ kind: 'write', ops: [{ op: 'SET', args: [Buffer.from('k'), Buffer.from('1')] }] })
    expect(parseCommand(' GET ', [s('k')], 'cache')).toEqual({ kind: 'read', read: { cmd: 'GET', key: Buffer.from('k') } })
  })

  it('a known command written out with its arguments in the statement says where the arguments go', () => {
    expect(refusal('SET balance 10', [])).toMatch(/the statement is the command name alone \("SET"\), its arguments go in params$/)
    expect(refusal('incrby  balance 5', [])).toContain('("INCRBY"), its arguments go in params')
  })

  it('a command branches do not support is named, with the list, and no hint about params', () => {
    const message = refusal('FLUSHALL')
    expect(message).toBe('unsupported Redis command "FLUSHALL": branches support SET, DEL, INCRBY, HSET, HDEL (buffered) and GET, HGET, EXISTS')
    expect(refusal('EVAL return 1')).not.toContain('params')
  })
})

describe('overlayGet', () => {
  const key = Buffer.from('k')
  const incr = { op: 'INCRBY' as const, args: [key, Buffer.from('5')] }
  it('adds a buffered INCRBY to the value read', () => {
    expect(overlayGet(Buffer.from('37'), key, [incr])?.toString()).toBe('42')
    expect(overlayGet(null, key, [incr])?.toString()).toBe('5')
  })
  it('over a value that is not an integer: says so, as Redis would refuse it (found by hostile testing: a BigInt TypeError)', () => {
    for (const value of ['abc', '1.5', '007']) {
      expect(() => overlayGet(Buffer.from(value), key, [incr])).toThrow(/INCRBY of key "k" earlier in this transaction is over a value Redis does not read as an integer/)
    }
  })
})

