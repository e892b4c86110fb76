import { describe, expect, it } from 'vitest'
import { ConcurrencyLimit } from '../../../server/coordinator/concurrency-limit.js'

describe('ConcurrencyLimit', () => {
  it('runs at most `limit` tasks at once, the rest in order, and a failing task frees its turn', async () => {
    const limit = new ConcurrencyLimit(2)
    let running = 0
    let most = 0
    const order: number[] = []
    const task = (i: number) => async () => {
      running++
      most = Math.max(most, running)
      await new Promise((resolve) => setTimeout(resolve, 5))
      running--
      order.push(i)
      if (i === 1) throw new Error('fails')
      return i
    }
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map((i) => limit.run(task(i))))
    expect(most).toBe(2)
    expect(order).toEqual([0, 1, 2, 3, 4])
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled'])
    expect(limit.queued).toBe(0)
  })
})
