import { describe, expect, it } from 'vitest'
import { canTransition, isLive, isPastCommitPoint, type TxState } from '../../../server/coordinator/transaction-state.js'

const ALL: TxState[] = ['ACTIVE', 'PREPARING', 'COMMITTING', 'COMMITTED', 'ROLLING_BACK', 'ROLLED_BACK', 'HEURISTIC']

describe('transaction state machine', () => {
  it('never rolls back past the commit point', () => {
    for (const from of ALL.filter(isPastCommitPoint)) {
      expect(canTransition(from, 'ROLLING_BACK')).toBe(false)
      expect(canTransition(from, 'ROLLED_BACK')).toBe(false)
    }
  })

  it('never commits after a rollback began', () => {
    for (const from of ['ROLLING_BACK', 'ROLLED_BACK'] as const) {
      expect(canTransition(from, 'PREPARING')).toBe(false)
      expect(canTransition(from, 'COMMITTING')).toBe(false)
      expect(canTransition(from, 'COMMITTED')).toBe(false)
    }
  })

  it('reaches the decision only through PREPARING', () => {
    const into = ALL.filter((s) => canTransition(s, 'COMMITTING'))
    expect(into).toEqual(['PREPARING'])
  })

  it('lets only a heuristic outcome follow a final state, and nothing follow HEURISTIC', () => {
    expect(ALL.filter((s) => canTransition('COMMITTED', s))).toEqual(['HEURISTIC'])
    expect(ALL.filter((s) => canTransition('ROLLED_BACK', s))).toEqual(['HEURISTIC'])
    expect(ALL.filter((s) => canTransition('HEURISTIC', s))).toEqual([])
  })

  it('treats exactly the in-progress states as live', () => {
    expect(ALL.filter(isLive)).toEqual(['ACTIVE', 'PREPARING', 'COMMITTING'])
  })
})
