// The transaction state machine (ARCHITECTURE.md, "Commit protocol"). Every
// transition goes through `canTransition`, so a Commit racing a Rollback or
// the deadline reaper has exactly one winner: the first synchronous
// transition wins, the loser sees a state it may not leave.

export type TxState =
  | 'ACTIVE'
  | 'PREPARING'
  | 'COMMITTING'
  | 'COMMITTED'
  | 'ROLLING_BACK'
  | 'ROLLED_BACK'
  | 'HEURISTIC'
  // The one-phase COMMIT of its only writer lost its connection: only that database knows (commit-protocol.ts).
  | 'OUTCOME_UNKNOWN'

const ALLOWED: Record<TxState, readonly TxState[]> = {
  ACTIVE: ['PREPARING', 'ROLLING_BACK'],
  // PREPARING → COMMITTED: one-phase and all-read-only commits need no decision record.
  PREPARING: ['COMMITTING', 'COMMITTED', 'ROLLING_BACK', 'OUTCOME_UNKNOWN'],
  // Past the commit point nothing rolls back; only an operator can make it mixed.
  COMMITTING: ['COMMITTED', 'HEURISTIC'],
  COMMITTED: ['HEURISTIC'],
  ROLLING_BACK: ['ROLLED_BACK', 'HEURISTIC'],
  ROLLED_BACK: ['HEURISTIC'],
  HEURISTIC: [],
  OUTCOME_UNKNOWN: [],
}

export function canTransition(from: TxState, to: TxState): boolean {
  return ALLOWED[from].includes(to)
}

/** States in which the TM still works on the transaction: recovery must not presume it aborted. */
export function isLive(state: TxState): boolean {
  return state === 'ACTIVE' || state === 'PREPARING' || state === 'COMMITTING'
}

export function isFinal(state: TxState): boolean {
  return state === 'COMMITTED' || state === 'ROLLED_BACK' || state === 'HEURISTIC' || state === 'OUTCOME_UNKNOWN'
}

/** True once the COMMIT decision is (or may be) durable: the transaction must commit. */
export function isPastCommitPoint(state: TxState): boolean {
  return state === 'COMMITTING' || state === 'COMMITTED'
}
