// Issue #21, item 13: the per-caller limits on their own (a fake clock for
// the token bucket). Over gRPC with tokens: test/unit/grpc/per-token-limits.test.ts.
import { describe, expect, it } from 'vitest'
import { TmError } from '../../../proto/errors.js'
import { CallerLimits, type CallerLimitsConfig } from '../../../server/coordinator/caller-limits.js'
import { LiveCounter, Transaction } from '../../../server/coordinator/transaction.js'

function limits(config: Partial<CallerLimitsConfig> = {}) {
  let now = 0
  const node = new LiveCounter()
  const l = new CallerLimits(
    {
      nodeMaxActiveTransactions: 10_000,
      perToken: { beginsPerSecond: 0, beginBurst: 1000, poolShare: 0.5 },
      tokens: [{ name: 'shop' }, { name: 'batch', limits: { maxActiveTransactions: 2, beginsPerSecond: 10, beginBurst: 3 } }],
      ...config,
    },
    node,
    () => now,
  )
  return { l, node, advance: (ms: number) => (now += ms) }
}

function refusal(fn: () => unknown): TmError {
  try {
    fn()
  } catch (error) {
    if (error instanceof TmError) return error
    throw error
  }
  throw new Error('expected a refusal')
}

describe('CallerLimits', () => {
  it('no caller (auth off): no per-caller limit', () => {
    expect(limits().l.admit(undefined)).toBeUndefined()
  })

  it("a caller's transactions count in its counter and the node's; the default limit is a quarter of the node's", () => {
    const { l, node } = limits({ nodeMaxActiveTransactions: 8 })
    const txs = [0, 1].map((i) => new Transaction(`n:${i}`, 0, {}, l.admit('shop')))
    expect(node.value).toBe(2)
    const e = refusal(() => l.admit('shop'))
    expect(e.code).toBe('TM_OVERLOADED')
    expect(e.message).toBe('caller "shop" has 2 transactions in progress, its limit (limits.perToken.maxActiveTransactions): retry once some have finished')
    expect(e.metadata).toMatchObject({ caller: 'shop', limit: 'limits.perToken.maxActiveTransactions' })
    txs[0]!.state = 'COMMITTED'
    expect(node.value).toBe(1)
    expect(l.admit('shop')).toBeInstanceOf(LiveCounter)
  })

  it("a token's own limits override limits.perToken and are named in the refusal", () => {
    const { l, advance } = limits()
    new Transaction('n:a', 0, {}, l.admit('batch'))
    advance(1000)
    new Transaction('n:b', 0, {}, l.admit('batch'))
    expect(refusal(() => l.admit('batch')).message).toMatch(/\(auth\.tokens\[1\]\.limits\.maxActiveTransactions\)/)
  })

  it('Begins per second: a bucket of beginBurst, refilled at beginsPerSecond', () => {
    const { l, advance } = limits({ tokens: [{ name: 'batch', limits: { beginsPerSecond: 10, beginBurst: 3 } }] })
    for (let i = 0; i < 3; i++) l.admit('batch')
    const e = refusal(() => l.admit('batch'))
    expect(e.message).toBe(
      'caller "batch" begins more than 10 transactions per second (auth.tokens[0].limits.beginsPerSecond; bursts of 3, auth.tokens[0].limits.beginBurst): retry in 100 ms',
    )
    expect(e.metadata.retryAfterMs).toBe('100')
    advance(50)
    expect(refusal(() => l.admit('batch')).metadata.retryAfterMs).toBe('50')
    advance(50)
    l.admit('batch')
    advance(10_000) // the bucket holds at most beginBurst
    for (let i = 0; i < 3; i++) l.admit('batch')
    refusal(() => l.admit('batch'))
  })

  it('counts begins and refusals per caller for the metrics', () => {
    const { l } = limits({ tokens: [{ name: 'batch', limits: { beginsPerSecond: 1, beginBurst: 1 } }] })
    l.admit('batch')
    refusal(() => l.admit('batch'))
    l.refusedByNode('batch')
    expect(l.snapshot()).toEqual([{ caller: 'batch', active: 0, begun: 1, refused: { active: 0, rate: 1, node: 1 } }])
  })
})
