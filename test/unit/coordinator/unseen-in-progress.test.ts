// Little's law for transactions the TM cannot see yet (pure logic).
import { describe, expect, it } from 'vitest'
import { UnseenInProgress } from '../../../server/coordinator/unseen-in-progress.js'

describe('UnseenInProgress', () => {
  it('is 0 before two arrivals', () => {
    const unseen = new UnseenInProgress()
    expect(unseen.estimate(0)).toBe(0)
    unseen.note(0, 50)
    expect(unseen.estimate(0)).toBe(0)
  })

  it('counts rate × time under way: one arrival per ms, each 100 ms old, is about 100 in progress', () => {
    const unseen = new UnseenInProgress()
    for (let t = 0; t < 200; t++) unseen.note(t, 100)
    expect(unseen.estimate(199)).toBeGreaterThanOrEqual(95)
    expect(unseen.estimate(199)).toBeLessThanOrEqual(100)
    // Eight in progress at the same rate: transactions of 8 ms.
    const few = new UnseenInProgress()
    for (let t = 0; t < 200; t++) few.note(t, 8)
    expect(few.estimate(199)).toBe(8)
  })

  it('falls when arrivals stop, and ignores a client clock a little ahead', () => {
    const unseen = new UnseenInProgress()
    for (let t = 0; t < 200; t++) unseen.note(t, 100)
    expect(unseen.estimate(199 + 10)).toBeLessThanOrEqual(10)
    expect(unseen.estimate(199 + 1000)).toBe(0)
    const skewed = new UnseenInProgress()
    for (let t = 0; t < 50; t++) skewed.note(t, -30)
    expect(skewed.estimate(49)).toBe(0)
  })
})
