// Client options past what a Node.js timer can wait (2^31 - 1 ms) fire after
// 1 ms: refused with InvalidArgumentError naming the option, like any bad value.
import { describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../client/errors.js'
import { checkTransactionOptions, resolveClientOptions } from '../../../client/options.js'

const TOO_LONG = 2 ** 31

describe('client options in milliseconds', () => {
  it.each([
    ['defaultDeadlineMs', () => resolveClientOptions({ address: '127.0.0.1:1', defaultDeadlineMs: TOO_LONG })],
    ['timeoutMs', () => checkTransactionOptions({ timeoutMs: TOO_LONG })],
    ['retry.baseDelayMs', () => checkTransactionOptions({ retry: { attempts: 2, baseDelayMs: TOO_LONG } })],
    ['retry.maxDelayMs', () => checkTransactionOptions({ retry: { attempts: 2, maxDelayMs: -1 } })],
  ])('%s out of range is refused, naming it', (name, call) => {
    expect(call).toThrow(InvalidArgumentError)
    expect(call).toThrow(name)
  })

  it('the largest a timer can wait is accepted', () => {
    expect(resolveClientOptions({ address: '127.0.0.1:1', defaultDeadlineMs: TOO_LONG - 1 }).defaultDeadlineMs).toBe(TOO_LONG - 1)
    expect(() => checkTransactionOptions({ timeoutMs: TOO_LONG - 1, retry: { attempts: 2, baseDelayMs: 0, maxDelayMs: TOO_LONG - 1 } })).not.toThrow()
  })
})

describe('client addresses', () => {
  it('one address or several, never both; each a non-empty string; repeats dropped', () => {
    expect(resolveClientOptions({ address: 'a:1' }).addresses).toEqual(['a:1'])
    expect(resolveClientOptions({ addresses: ['a:1', 'b:2', 'a:1'] })).toMatchObject({ address: 'a:1', addresses: ['a:1', 'b:2'] })
    expect(() => resolveClientOptions({ address: 'a:1', addresses: ['b:2'] })).toThrow(/give address or addresses, not both/)
    expect(() => resolveClientOptions({ addresses: [] })).toThrow(/addresses must be a non-empty array/)
    expect(() => resolveClientOptions({ addresses: ['a:1', ''] })).toThrow(/addresses\[1\] must be a host:port string/)
    expect(() => resolveClientOptions({ addresses: 'a:1' as unknown as string[] })).toThrow(/addresses must be a non-empty array/)
    expect(() => resolveClientOptions({})).toThrow(/address is required/)
  })

  it('an address with whitespace or a control character is refused at once, not at every call after its deadline', () => {
    for (const bad of [' 127.0.0.1:1', '127.0.0.1:1 ', '127.0.0.1 :1', '127.0.0.1:1\n', 'a\t:1', 'a:1\u0000']) {
      expect(() => resolveClientOptions({ addresses: ['b:2', bad] }), JSON.stringify(bad)).toThrow(/addresses\[1\] has whitespace or a control character/)
      expect(() => resolveClientOptions({ address: bad }), JSON.stringify(bad)).toThrow(/^address has whitespace or a control character/)
    }
    expect(resolveClientOptions({ address: 'dns:///arbiter.internal:50051' }).address).toBe('dns:///arbiter.internal:50051')
  })

  it('an address that is not host:port is refused at once, naming it (found by hostile testing: each call waited out its deadline, retryable)', () => {
    for (const bad of ['localhost', 'localhost:', 'localhost:abc', 'localhost:-1', 'localhost:0', 'localhost:99999', 'tm-a:50051:', ':50051', '::1:50051', '[::1]']) {
      expect(() => resolveClientOptions({ addresses: ['b:2', bad] }), JSON.stringify(bad)).toThrow(/addresses\[1\] must be host:port with a port from 1 to 65535/)
    }
    for (const url of ['http://tm:50051', 'xds:///foo']) expect(() => resolveClientOptions({ address: url }), url).toThrow(/address is a URL/)
    for (const good of ['localhost:50051', '127.0.0.1:1', '[::1]:50051', 'arbiter-1.svc.cluster.local:65535', 'unix:/run/arbiter.sock', 'ipv4:10.0.0.1:50051,10.0.0.2:50051']) {
      expect(resolveClientOptions({ address: good }).address).toBe(good)
    }
  })
})
