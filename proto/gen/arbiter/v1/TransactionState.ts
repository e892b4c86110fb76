// Original file: proto/arbiter/v1/transaction.proto

export const TransactionState = {
  TRANSACTION_STATE_UNSPECIFIED: 'TRANSACTION_STATE_UNSPECIFIED',
  TRANSACTION_STATE_ACTIVE: 'TRANSACTION_STATE_ACTIVE',
  TRANSACTION_STATE_PREPARING: 'TRANSACTION_STATE_PREPARING',
  /**
   * The COMMIT decision is durable; phase 2 is running. Committed as far as
   * the application is concerned: it commits its prepared local branches.
   */
  TRANSACTION_STATE_COMMITTING: 'TRANSACTION_STATE_COMMITTING',
  TRANSACTION_STATE_COMMITTED: 'TRANSACTION_STATE_COMMITTED',
  TRANSACTION_STATE_ROLLING_BACK: 'TRANSACTION_STATE_ROLLING_BACK',
  TRANSACTION_STATE_ROLLED_BACK: 'TRANSACTION_STATE_ROLLED_BACK',
  /**
   * The outcome is mixed: an operator resolved a branch against the
   * decision, or a branch escaped its transaction (BRANCH_STATE_ESCAPED).
   */
  TRANSACTION_STATE_HEURISTIC: 'TRANSACTION_STATE_HEURISTIC',
  /**
   * Not known: the connection to its one writing branch died during that
   * branch's one-phase COMMIT, so only the database knows whether it
   * committed (there was nothing else to mix: no decision record, no other
   * writer). The TM never learns more: check the data.
   */
  TRANSACTION_STATE_OUTCOME_UNKNOWN: 'TRANSACTION_STATE_OUTCOME_UNKNOWN',
} as const;

export type TransactionState =
  | 'TRANSACTION_STATE_UNSPECIFIED'
  | 0
  | 'TRANSACTION_STATE_ACTIVE'
  | 1
  | 'TRANSACTION_STATE_PREPARING'
  | 2
  /**
   * The COMMIT decision is durable; phase 2 is running. Committed as far as
   * the application is concerned: it commits its prepared local branches.
   */
  | 'TRANSACTION_STATE_COMMITTING'
  | 3
  | 'TRANSACTION_STATE_COMMITTED'
  | 4
  | 'TRANSACTION_STATE_ROLLING_BACK'
  | 5
  | 'TRANSACTION_STATE_ROLLED_BACK'
  | 6
  /**
   * The outcome is mixed: an operator resolved a branch against the
   * decision, or a branch escaped its transaction (BRANCH_STATE_ESCAPED).
   */
  | 'TRANSACTION_STATE_HEURISTIC'
  | 7
  /**
   * Not known: the connection to its one writing branch died during that
   * branch's one-phase COMMIT, so only the database knows whether it
   * committed (there was nothing else to mix: no decision record, no other
   * writer). The TM never learns more: check the data.
   */
  | 'TRANSACTION_STATE_OUTCOME_UNKNOWN'
  | 8

export type TransactionState__Output = typeof TransactionState[keyof typeof TransactionState]
