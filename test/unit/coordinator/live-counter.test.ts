import { describe, expect, it } from 'vitest'
import { LiveCounter, Transaction } from '../../../server/coordinator/transaction.js'

describe('live transaction count', () => {
  it('counts a transaction from Begin until it leaves the live states, whatever the path', () => {
    const live = new LiveCounter()
    const committed = new Transaction('n:A', 0, {}, live)
    const rolledBack = new Transaction('n:B', 0, {}, live)
    expect(live.value).toBe(2)
    committed.state = 'PREPARING'
    committed.state = 'COMMITTING'
    expect(live.value).toBe(2)
    committed.state = 'COMMITTED'
    expect(live.value).toBe(1)
    rolledBack.state = 'ROLLING_BACK'
    expect(live.value).toBe(0)
    rolledBack.state = 'ROLLED_BACK'
    committed.state = 'HEURISTIC'
    expect(live.value).toBe(0)
  })

  it('does not count a view rebuilt from the log (no counter)', () => {
    const live = new LiveCounter()
    const view = new Transaction('n:C', 0, {})
    view.state = 'COMMITTING'
    expect(live.value).toBe(0)
  })
})
