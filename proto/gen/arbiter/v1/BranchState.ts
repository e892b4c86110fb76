// Original file: proto/arbiter/v1/transaction.proto

export const BranchState = {
  BRANCH_STATE_UNSPECIFIED: 'BRANCH_STATE_UNSPECIFIED',
  BRANCH_STATE_ACTIVE: 'BRANCH_STATE_ACTIVE',
  BRANCH_STATE_PREPARED: 'BRANCH_STATE_PREPARED',
  /**
   * Voted read-only at prepare: already finished, takes no part in phase 2.
   */
  BRANCH_STATE_READ_ONLY: 'BRANCH_STATE_READ_ONLY',
  BRANCH_STATE_COMMITTED: 'BRANCH_STATE_COMMITTED',
  BRANCH_STATE_ROLLED_BACK: 'BRANCH_STATE_ROLLED_BACK',
  BRANCH_STATE_FAILED: 'BRANCH_STATE_FAILED',
  /**
   * A statement ended the branch's transaction on the server, outside the
   * protocol (the server reported the session no longer in a transaction):
   * its writes may have been committed or rolled back by that statement. The
   * transaction is then HEURISTIC: the other branches were rolled back.
   */
  BRANCH_STATE_ESCAPED: 'BRANCH_STATE_ESCAPED',
  /**
   * An operator gave the branch up (Admin.ResolveBranch, RESOLUTION_ABANDON):
   * its server was gone for good, so whether its commit happened is not
   * known. The transaction is then HEURISTIC.
   */
  BRANCH_STATE_ABANDONED: 'BRANCH_STATE_ABANDONED',
} as const;

export type BranchState =
  | 'BRANCH_STATE_UNSPECIFIED'
  | 0
  | 'BRANCH_STATE_ACTIVE'
  | 1
  | 'BRANCH_STATE_PREPARED'
  | 2
  /**
   * Voted read-only at prepare: already finished, takes no part in phase 2.
   */
  | 'BRANCH_STATE_READ_ONLY'
  | 3
  | 'BRANCH_STATE_COMMITTED'
  | 4
  | 'BRANCH_STATE_ROLLED_BACK'
  | 5
  | 'BRANCH_STATE_FAILED'
  | 6
  /**
   * A statement ended the branch's transaction on the server, outside the
   * protocol (the server reported the session no longer in a transaction):
   * its writes may have been committed or rolled back by that statement. The
   * transaction is then HEURISTIC: the other branches were rolled back.
   */
  | 'BRANCH_STATE_ESCAPED'
  | 7
  /**
   * An operator gave the branch up (Admin.ResolveBranch, RESOLUTION_ABANDON):
   * its server was gone for good, so whether its commit happened is not
   * known. The transaction is then HEURISTIC.
   */
  | 'BRANCH_STATE_ABANDONED'
  | 8

export type BranchState__Output = typeof BranchState[keyof typeof BranchState]
