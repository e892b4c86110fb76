// One DNS name for a cluster: `dns:///name:port` targets are parsed, each
// address the name resolves to becomes a node new transactions go to, a
// name that stops resolving keeps its last addresses, and a bad target is
// refused when the client is created. The resolver is the one seam: what
// a name resolves to is the test's input, not a database's behaviour.
import { describe, expect, it } from 'vitest'
import { dnsTarget, nodeAddress } from '../../../client/dns-nodes.js'
import { createArbiterClient, InvalidArgumentError } from '../../../client/index.js'
import { NodeSet } from '../../../client/node-set.js'
import { resolveClientOptions } from '../../../client/options.js'

describe('dns: targets', () => {
  it.each([
    ['dns:///arbiter.internal:50051', { host: 'arbiter.internal', port: '50051' }],
    ['dns:arbiter.internal:50051', { host: 'arbiter.internal', port: '50051' }],
    ['dns://8.8.8.8/arbiter.internal:50051', { host: 'arbiter.internal', port: '50051' }],
    ['dns:///[fd00::1]:50051', { host: 'fd00::1', port: '50051' }],
    ['127.0.0.1:50051', undefined],
    ['dns:///arbiter.internal', undefined],
    ['dns:///:50051', undefined],
  ])('%s', (entry, expected) => {
    expect(dnsTarget(entry)).toEqual(expected)
  })

  it('IPv6 addresses are bracketed', () => {
    expect(nodeAddress('10.0.0.7', '50051')).toBe('10.0.0.7:50051')
    expect(nodeAddress('fd00::7', '50051')).toBe('[fd00::7]:50051')
  })

  it('a dns: target without a port is refused when the client is created, naming the field', () => {
    expect(() => createArbiterClient({ address: 'dns:///arbiter.internal' })).toThrow(InvalidArgumentError)
    expect(() => createArbiterClient({ addresses: ['127.0.0.1:1', 'dns:///x'] })).toThrow(/addresses\[1\]: a dns: target names a host and a port/)
  })

  it('a dns: target whose port is out of range, or that names a DNS server the client would not ask, is refused at once', () => {
    expect(() => createArbiterClient({ address: 'dns:///localhost:99999' })).toThrow(/address: a dns: target's port must be from 1 to 65535/)
    expect(() => createArbiterClient({ addresses: ['127.0.0.1:1', 'dns:///localhost:0'] })).toThrow(/addresses\[1\]: a dns: target's port must be from 1 to 65535/)
    expect(() => createArbiterClient({ address: 'dns://8.8.8.8/arbiter.internal:50051' })).toThrow(/naming its DNS server .* is not supported: .*write dns:\/\/\/host:port/)
    expect(() => createArbiterClient({ address: 'dns:///localhost:65535' }).close()).not.toThrow()
  })
})

describe('a NodeSet given a dns: target', () => {
  it('spreads new transactions over every address the name resolves to, beside the plain addresses given', async () => {
    let answer: string[] = ['10.0.0.1', '10.0.0.2', '10.0.0.1']
    const nodes = new NodeSet(resolveClientOptions({ addresses: ['dns:///tm.internal:50051', '127.0.0.1:50099'] }), async () => answer)
    try {
      expect(nodes.single).toBe(false)
      await nodes.resolveNames()
      expect(nodes.addresses()).toEqual(['10.0.0.1:50051', '10.0.0.2:50051', '127.0.0.1:50099'])
      const picked = new Set([nodes.pick(), nodes.pick(), nodes.pick()].map((rpc) => rpc.address))
      expect(picked).toEqual(new Set(['10.0.0.1:50051', '10.0.0.2:50051', '127.0.0.1:50099']))
      // A node replaced behind the name is found at the next resolution.
      answer = ['10.0.0.2', '10.0.0.3']
      await nodes.resolveNames()
      expect(nodes.addresses()).toEqual(['10.0.0.2:50051', '10.0.0.3:50051', '127.0.0.1:50099'])
    } finally {
      nodes.close()
    }
  })

  it('one name alone is a cluster (not a single node); until it resolves, and when it stops resolving, it keeps what it had', async () => {
    let fail = false
    const nodes = new NodeSet(resolveClientOptions({ address: 'dns:///tm.internal:50051' }), async () => {
      if (fail) throw new Error('SERVFAIL')
      return ['10.0.0.1']
    })
    try {
      expect(nodes.single).toBe(false)
      expect(nodes.addresses()).toEqual(['dns:///tm.internal:50051'])
      await nodes.resolveNames()
      expect(nodes.addresses()).toEqual(['10.0.0.1:50051'])
      fail = true
      await nodes.resolveNames()
      expect(nodes.addresses()).toEqual(['10.0.0.1:50051'])
    } finally {
      nodes.close()
    }
  })
})
