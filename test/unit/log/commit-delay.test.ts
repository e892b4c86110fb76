// The commit-delay rule alone: when a batch waits, for how many decisions, how long.
import { describe, expect, it } from 'vitest'
import { CommitDelay, type CommitDelayOptions } from '../../../server/log/commit-delay.js'

function delay(options: Partial<CommitDelayOptions> & { live?: number } = {}): CommitDelay {
  const live = options.live ?? 128
  return new CommitDelay({ maxDelayMs: 20, minSiblings: 5, batchFraction: 0.1, siblings: () => live, ...options })
}

/** Decisions `gapMs` apart, `n` of them. */
function arrive(d: CommitDelay, n: number, gapMs: number, from = 0): number {
  let t = from
  for (let i = 0; i < n; i++) d.noteDecision((t += gapMs))
  return t
}

describe('CommitDelay', () => {
  it('waits for a tenth of the transactions in progress, at most maxDelayMs, once decisions arrive densely', () => {
    const d = delay({ live: 128 })
    expect(d.plan(1)).toBeUndefined() // no arrival rate known yet
    arrive(d, 20, 1)
    expect(d.plan(1)).toEqual({ target: 13, waitMs: 20 })
    expect(d.plan(12)).toEqual({ target: 13, waitMs: 20 })
    expect(d.plan(13)).toBeUndefined()
  })

  it('never waits below minSiblings, nor when the share is a batch of one', () => {
    const few = delay({ live: 4 })
    arrive(few, 20, 1)
    expect(few.plan(1)).toBeUndefined()
    const eight = delay({ live: 8 }) // a tenth of 8 rounds up to 1
    arrive(eight, 20, 1)
    expect(eight.plan(1)).toBeUndefined()
    const twenty = delay({ live: 20 })
    arrive(twenty, 20, 1)
    expect(twenty.plan(1)).toEqual({ target: 2, waitMs: 20 })
  })

  it('stops waiting when decisions come further apart than maxDelayMs, and waits again once a burst returns', () => {
    const d = delay({ live: 128 })
    const t = arrive(d, 20, 1)
    expect(d.plan(1)).toBeDefined()
    const later = arrive(d, 10, 60, t) // sparse: one per 60 ms
    expect(d.plan(1)).toBeUndefined()
    arrive(d, 40, 1, later)
    expect(d.plan(1)).toBeDefined()
  })

  it('is off with maxDelayMs 0', () => {
    const d = delay({ maxDelayMs: 0 })
    arrive(d, 20, 1)
    expect(d.plan(1)).toBeUndefined()
  })
})
