// RedisAdapter (emulated prepare) against a real Redis.
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RedisAdapter } from '../../../adapters/redis/redis-adapter.js'
import type { Xid } from '../../../adapters/types.js'
import { xidEquals, xidKey } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { expectAdapterError, expectClosedPortRetryable, int, newXid, str as s } from './adapter-test-helpers.js'

const xid = (): Xid => newXid('rtest', 'b1')

describe('RedisAdapter', () => {
  let url: string
  let prefix: string
  let adapter: RedisAdapter
  let r: Redis
  const k = (name: string): string => `${prefix}data:${name}`

  beforeAll(async () => {
    url = sharedServerUrls().redisUrl
    prefix = `t${Date.now()}:`
    adapter = new RedisAdapter({ name: 'r1', kind: 'redis', url: `${url}?arbiterPrefix=${encodeURIComponent(prefix)}` })
    await adapter.init()
    expect(adapter.keyPrefix).toBe(prefix)
    r = new Redis(url)
  })
  afterAll(async () => {
    await adapter?.close()
    r?.disconnect()
  })

  it('prepare stores the writes and locks; commit applies; recover lists it until then', async () => {
    await r.set(k('a'), '10')
    const x = xid()
    const b = await adapter.begin(x)
    await b.execute('SET', [s(k('b')), s('hello')])
    await b.execute('INCRBY', [s(k('a')), int(5)])
    await b.execute('HSET', [s(k('h')), s('f'), s('v')])
    await b.execute('DEL', [s(k('gone'))])
    expect((await b.execute('GET', [s(k('a'))])).rows).toEqual([[s('15')]]) // read-your-writes
    expect((await b.execute('HGET', [s(k('h')), s('f')])).rows).toEqual([[s('v')]])
    expect(await b.isReadOnly()).toBe(false)
    expect(await b.prepare()).toEqual({ vote: 'prepared' })
    expect(await r.get(k('b'))).toBeNull()
    expect(await r.get(`${prefix}lock:${k('b')}`)).toBe(xidKey(x))
    expect((await adapter.recover()).some((p) => xidEquals(p.xid, x))).toBe(true)
    expect((await adapter.health()).preparedBranches).toBe(1)
    expect(await b.commit()).toBe('done')
    expect(await r.get(k('b'))).toBe('hello')
    expect(await r.get(k('a'))).toBe('15')
    expect(await r.hget(k('h'), 'f')).toBe('v')
    expect(await r.exists(`${prefix}lock:${k('b')}`)).toBe(0)
    expect(await adapter.recover()).toEqual([])
    expect(await adapter.commit(x)).toBe('already-done')
  })

  it('rollback discards the writes and the locks', async () => {
    const x = xid()
    const b = await adapter.begin(x)
    await b.execute('SET', [s(k('rb')), s('no')])
    expect((await b.prepare()).vote).toBe('prepared')
    expect(await adapter.rollback(x)).toBe('done')
    expect(await r.get(k('rb'))).toBeNull()
    expect(await r.exists(`${prefix}lock:${k('rb')}`)).toBe(0)
    expect(await adapter.rollback(x)).toBe('already-done')
  })

  it('a second branch writing a locked key votes no', async () => {
    const x = xid()
    const b1 = await adapter.begin(x)
    await b1.execute('SET', [s(k('l')), s('1')])
    expect((await b1.prepare()).vote).toBe('prepared')
    const b2 = await adapter.begin(xid())
    await b2.execute('SET', [s(k('l')), s('2')])
    const v = await b2.prepare()
    expect(v.vote).toBe('no')
    if (v.vote === 'no') expect(v.reason).toMatch(/locked by another prepared branch/)
    const b3 = await adapter.begin(xid())
    await b3.execute('INCRBY', [s(k('l')), int(1)])
    await expectAdapterError(b3.commitOnePhase(), 'vote-no')
    expect(await b1.commit()).toBe('done')
    expect(await r.get(k('l'))).toBe('1')
  })

  it('writes that cannot apply vote no at prepare', async () => {
    await r.set(k('txt'), 'abc')
    const b = await adapter.begin(xid())
    await b.execute('INCRBY', [s(k('txt')), int(1)])
    const v = await b.prepare()
    expect(v.vote).toBe('no')
    const b2 = await adapter.begin(xid())
    await b2.execute('HSET', [s(k('txt')), s('f'), s('v')])
    expect((await b2.prepare()).vote).toBe('no')
    expect(await r.get(k('txt'))).toBe('abc')
  })

  it('an INCRBY Redis itself would refuse votes no at prepare, and one phase writes nothing (found by hostile testing: both applied in part)', async () => {
    // Redis reads no leading zero, no "-0", nothing past 64 bits as an integer: a looser check voted yes, and the
    // commit then applied the branch's other writes and not the INCRBY, while the caller was told COMMITTED.
    const cases = [['007', 1n], ['-0', 1n], ['9223372036854775800', 100n], ['5', 2n ** 63n - 1n]] as const
    for (const [value, by] of cases) {
      await r.set(k('n'), value)
      await r.del(k('other'))
      const incr = { kind: 'int' as const, value: by }
      const b = await adapter.begin(xid())
      await b.execute('SET', [s(k('other')), s('written')])
      await b.execute('INCRBY', [s(k('n')), incr])
      expect({ value, vote: (await b.prepare()).vote }).toEqual({ value, vote: 'no' })
      const one = await adapter.begin(xid())
      await one.execute('SET', [s(k('other')), s('written')])
      await one.execute('INCRBY', [s(k('n')), incr])
      await expectAdapterError(one.commitOnePhase(), 'vote-no')
      expect({ value, other: await r.get(k('other')), n: await r.get(k('n')) }).toEqual({ value, other: null, n: value })
    }
    // What Redis does not read as an integer is refused as the statement's argument too.
    const b = await adapter.begin(xid())
    await expectAdapterError(b.execute('INCRBY', [s(k('n')), s('01')]), 'fatal')
  })

  it("keys of Arbiter's own under the prefix (locks, prepared records, node-id claims) are refused", async () => {
    for (const own of ['lock:k', 'prepared', 'prepared:x', 'node:n1']) {
      const b = await adapter.begin(xid())
      await expectAdapterError(b.execute('SET', [s(`${prefix}${own}`), s('x')]), 'fatal')
      await expectAdapterError(b.execute('GET', [s(`${prefix}${own}`)]), 'fatal')
    }
  })

  it('no writes → read-only; one-phase commit applies at once; unsupported commands are refused', async () => {
    const b = await adapter.begin(xid())
    await b.execute('GET', [s(k('x'))])
    expect(await b.prepare()).toEqual({ vote: 'read-only' })
    const b2 = await adapter.begin(xid())
    await b2.execute('SET', [s(k('one')), s('phase')])
    await b2.commitOnePhase()
    expect(await r.get(k('one'))).toBe('phase')
    const b3 = await adapter.begin(xid())
    await expectAdapterError(b3.execute('FLUSHALL', []), 'fatal')
  })

  it('a new adapter instance (process restart) recovers and commits a prepared branch', async () => {
    const x = xid()
    const b = await adapter.begin(x)
    await b.execute('SET', [s(k('survivor')), s('yes')])
    expect((await b.prepare()).vote).toBe('prepared')
    const second = new RedisAdapter({ name: 'r1', kind: 'redis', url, poolSize: 1 }, { keyPrefix: prefix })
    await second.init()
    const found = await second.recover()
    expect(found.map((p) => p.xid).some((y) => xidEquals(y, x))).toBe(true)
    expect(await second.listForeign()).toEqual([])
    expect(await second.commit(x)).toBe('done')
    expect(await r.get(k('survivor'))).toBe('yes')
    await second.close()
  })

  it('a closed port gives a retryable error within a bounded time', async () => {
    await expectClosedPortRetryable((port) => new RedisAdapter({ name: 'dead', kind: 'redis', url: `redis://127.0.0.1:${port}`, connectTimeoutMs: 1000 }))
  })
})
