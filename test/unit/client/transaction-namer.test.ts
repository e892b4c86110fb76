// The client's naming of transactions (pure logic: no TM needed).
import { describe, expect, it } from 'vitest'
import { newGtrid, parseGtrid } from '../../../adapters/index.js'
import { TransactionNamer } from '../../../client/transaction-namer.js'
import type { BeginResponse__Output } from '../../../proto/gen/arbiter/v1/BeginResponse.js'

function beginResponse(overrides: Partial<BeginResponse__Output> = {}): BeginResponse__Output {
  return {
    gtrid: newGtrid('tm-7'),
    deadlineUnixMs: '0',
    serverTimeUnixMs: String(Date.now()),
    defaultTimeoutMs: 30_000,
    tmInstance: 'run-1',
    ...overrides,
  }
}

describe('TransactionNamer', () => {
  it('names nothing until a Begin taught it the TM', () => {
    expect(new TransactionNamer().name(undefined, {})).toBeUndefined()
  })

  it('names gtrids for the TM node, on the TM clock, with the run and options to begin them', () => {
    const namer = new TransactionNamer()
    const now = Date.now()
    // The TM's clock is 10 s ahead of ours; the round trip took 40 ms and it answered halfway.
    namer.learn(beginResponse({ serverTimeUnixMs: String(now + 10_000) }), now - 20, now + 20)
    const named = namer.name(5_000, { team: 'a' })!
    const { nodeId, createdAt } = parseGtrid(named.gtrid)
    expect(nodeId).toBe('tm-7')
    expect(Math.abs(createdAt.getTime() - (Date.now() + 10_000))).toBeLessThan(50)
    expect(named.begin).toEqual({ timeoutMs: 5_000, labels: { team: 'a' }, tmInstance: 'run-1' })
    expect(Math.abs(named.deadline.getTime() - (createdAt.getTime() + 5_000))).toBeLessThan(50)
    // No timeout given: the TM's default, and 0 on the wire (the TM applies its own).
    const byDefault = namer.name(undefined, {})!
    expect(byDefault.begin.timeoutMs).toBe(0)
    expect(byDefault.deadline.getTime() - parseGtrid(byDefault.gtrid).createdAt.getTime()).toBe(30_000)
    expect(namer.name(undefined, {})!.gtrid).not.toBe(byDefault.gtrid)
  })

  it('learns nothing from a slow Begin (its clock estimate could be off by half the round trip)', () => {
    const namer = new TransactionNamer()
    const now = Date.now()
    namer.learn(beginResponse(), now - 800, now)
    expect(namer.name(undefined, {})).toBeUndefined()
    namer.learn(beginResponse(), now - 40, now)
    expect(namer.name(undefined, {})).toBeDefined()
  })

  it('forgets the TM (new stream, refusal), and learns nothing from a TM that does not say enough', () => {
    const namer = new TransactionNamer()
    namer.learn(beginResponse(), Date.now(), Date.now())
    namer.forget()
    expect(namer.name(undefined, {})).toBeUndefined()
    for (const partial of [{ tmInstance: '' }, { serverTimeUnixMs: '0' }, { defaultTimeoutMs: 0 }, { gtrid: 'not a gtrid' }]) {
      namer.learn(beginResponse(partial), Date.now(), Date.now())
      expect(namer.name(undefined, {}), JSON.stringify(partial)).toBeUndefined()
    }
  })
})
