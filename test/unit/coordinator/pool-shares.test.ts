// The per-caller share of a session pool on its own (no servers): who waits,
// who is handed a session, and that every way a branch ends gives its slot
// back exactly once. Over gRPC on PostgreSQL: test/integration/production/pool-share.test.ts.
import { describe, expect, it } from 'vitest'
import { AdapterError, type BranchSession } from '../../../adapters/types.js'
import { PoolShares, shareOf } from '../../../server/coordinator/pool-shares.js'

function fakeSession(): BranchSession & { releases: number } {
  const s = {
    releases: 0,
    release: async () => {
      s.releases++
    },
  }
  return s as unknown as BranchSession & { releases: number }
}

const SHARE = shareOf(4, 0.5, 'limits.perToken.poolShare')
const wait = (timeoutMs = 5000, signal?: AbortSignal) => ({ timeoutMs, signal })

describe('PoolShares', () => {
  it('shareOf rounds down and never gives less than one session', () => {
    expect(shareOf(4, 0.5, 'x').sessions).toBe(2)
    expect(shareOf(5, 0.5, 'x').sessions).toBe(2)
    expect(shareOf(1, 0.5, 'x').sessions).toBe(1)
    expect(shareOf(10, 0.01, 'x').sessions).toBe(1)
  })

  it('a caller past its share waits; the session its own branch releases passes to it; other callers and resources are apart', async () => {
    const shares = new PoolShares()
    const a = await shares.begin('pg', 'shop', SHARE, wait(), async () => fakeSession())
    await shares.begin('pg', 'shop', SHARE, wait(), async () => fakeSession())
    let third: BranchSession | undefined
    const waiting = shares.begin('pg', 'shop', SHARE, wait(), async () => fakeSession()).then((s) => (third = s))
    await shares.begin('pg', 'billing', SHARE, wait(), async () => fakeSession())
    await shares.begin('mysql', 'shop', SHARE, wait(), async () => fakeSession())
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(third).toBeUndefined()
    expect(shares.held('pg', 'shop')).toBe(2)
    await a.release()
    await a.release() // a second release gives nothing back twice
    await waiting
    expect(third).toBeDefined()
    expect(shares.held('pg', 'shop')).toBe(2)
    expect(shares.held('pg', 'billing')).toBe(1)
    expect(shares.held('mysql', 'shop')).toBe(1)
  })

  it('a wait past the timeout fails retryable naming the caller, the resource and the option', async () => {
    const shares = new PoolShares()
    const one = shareOf(1, 0.5, 'auth.tokens[1].limits.poolShare')
    await shares.begin('pg', 'shop', one, wait(), async () => fakeSession())
    const error = await shares.begin('pg', 'shop', one, wait(30), async () => fakeSession()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(AdapterError)
    expect((error as AdapterError).errorClass).toBe('retryable')
    expect((error as Error).message).toMatch(/caller "shop" holds 1 of "pg"'s sessions, its share \(0\.5 of the pool, auth\.tokens\[1\]\.limits\.poolShare\), and none came back within 30 ms/)
    expect(shares.held('pg', 'shop')).toBe(1)
  })

  it('an abort while waiting leaves the queue; a begin that fails gives its slot back', async () => {
    const shares = new PoolShares()
    const one = shareOf(1, 1, 'x')
    const first = await shares.begin('pg', 'shop', one, wait(), async () => fakeSession())
    const controller = new AbortController()
    const aborted = shares.begin('pg', 'shop', one, wait(5000, controller.signal), async () => fakeSession()).catch((e: unknown) => e)
    controller.abort()
    expect(((await aborted) as Error).message).toMatch(/ended while waiting/)
    const already = await shares.begin('pg', 'shop', one, wait(5000, AbortSignal.abort()), async () => fakeSession()).catch((e: unknown) => e)
    expect((already as Error).message).toMatch(/ended while waiting/)
    await first.release()
    expect(shares.held('pg', 'shop')).toBe(0)
    const failed = await shares.begin('pg', 'shop', one, wait(), () => Promise.reject(new Error('no server'))).catch((e: unknown) => e)
    expect((failed as Error).message).toBe('no server')
    expect(shares.held('pg', 'shop')).toBe(0)
  })
})
