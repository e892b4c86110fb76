// Original file: proto/arbiter/v1/transaction.proto

/**
 * Who runs the branch's statements.
 */
export const BranchMode = {
  BRANCH_MODE_UNSPECIFIED: 'BRANCH_MODE_UNSPECIFIED',
  /**
   * The TM runs the statements (Execute) on a session it holds.
   */
  BRANCH_MODE_MANAGED: 'BRANCH_MODE_MANAGED',
  /**
   * The application runs them on its own connection (Enlist).
   */
  BRANCH_MODE_LOCAL: 'BRANCH_MODE_LOCAL',
} as const;

/**
 * Who runs the branch's statements.
 */
export type BranchMode =
  | 'BRANCH_MODE_UNSPECIFIED'
  | 0
  /**
   * The TM runs the statements (Execute) on a session it holds.
   */
  | 'BRANCH_MODE_MANAGED'
  | 1
  /**
   * The application runs them on its own connection (Enlist).
   */
  | 'BRANCH_MODE_LOCAL'
  | 2

/**
 * Who runs the branch's statements.
 */
export type BranchMode__Output = typeof BranchMode[keyof typeof BranchMode]
