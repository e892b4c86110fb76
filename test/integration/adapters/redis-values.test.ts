// Redis reads through a branch are binary-safe: a value that is not UTF-8
// comes back as its bytes (found by hostile testing: it came back as text
// with U+FFFD in place of each bad byte, and a copy wrote those).
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisAdapter } from '../../../adapters/redis/redis-adapter.js'
import type { SqlValue } from '../../../adapters/types.js'
import { sharedServerUrls } from '../../harness/index.js'
import { int, newXid, str } from './adapter-test-helpers.js'

const bytes = (...b: number[]): SqlValue => ({ kind: 'bytes', value: Buffer.from(b) })

describe('RedisAdapter values', () => {
  let prefix: string
  let adapter: RedisAdapter
  let r: Redis
  const k = (name: string): string => `${prefix}data:${name}`

  beforeAll(async () => {
    const url = sharedServerUrls().redisUrl
    prefix = `tv${Date.now()}:`
    adapter = new RedisAdapter({ name: 'rv', kind: 'redis', url: `${url}?arbiterPrefix=${encodeURIComponent(prefix)}` })
    await adapter.init()
    r = new Redis(url)
  })
  afterAll(async () => {
    await adapter?.close()
    r?.disconnect()
  })

  it('GET and HGET return bytes for a value that is not UTF-8 and a string for one that is; a copy through the TM is exact', async () => {
    const blob = Buffer.from([0x82, 0xa1, 0x61, 0x01, 0xc3]) // msgpack, stored by another application
    await r.set(k('blob'), blob)
    await r.set(k('text'), 'grüße 😀')
    await r.hset(k('h'), 'bin', Buffer.from([0x00, 0xff]), 'txt', 'ok')
    const s = await adapter.begin(newXid('rvalues'))
    const read = async (cmd: string, ...args: SqlValue[]): Promise<SqlValue | undefined> => (await s.execute(cmd, args)).rows[0]?.[0]
    expect(await read('GET', str(k('blob')))).toEqual(bytes(0x82, 0xa1, 0x61, 0x01, 0xc3))
    expect(await read('GET', str(k('text')))).toEqual(str('grüße 😀'))
    expect(await read('HGET', str(k('h')), str('bin'))).toEqual(bytes(0x00, 0xff))
    expect(await read('HGET', str(k('h')), str('txt'))).toEqual(str('ok'))
    expect(await read('GET', str(k('none')))).toEqual({ kind: 'null' })
    // Read-your-writes: the branch's own buffered writes, as bytes too.
    await s.execute('SET', [str(k('copy')), (await read('GET', str(k('blob'))))!])
    expect(await read('GET', str(k('copy')))).toEqual(bytes(0x82, 0xa1, 0x61, 0x01, 0xc3))
    await s.execute('HSET', [str(k('h2')), str('f'), bytes(0x89, 0x50)])
    expect(await read('HGET', str(k('h2')), str('f'))).toEqual(bytes(0x89, 0x50))
    await s.execute('SET', [str(k('n')), int(40)])
    await s.execute('INCRBY', [str(k('n')), int(2)])
    expect(await read('GET', str(k('n')))).toEqual(str('42'))
    await s.commitOnePhase()
    await s.release()
    expect((await r.getBuffer(k('copy')))?.toString('hex')).toBe('82a16101c3')
    expect((await r.hgetBuffer(k('h2'), 'f'))?.toString('hex')).toBe('8950')
  })
})
