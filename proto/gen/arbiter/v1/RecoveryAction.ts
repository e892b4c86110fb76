// Original file: proto/arbiter/v1/admin.proto

export const RecoveryAction = {
  RECOVERY_ACTION_UNSPECIFIED: 'RECOVERY_ACTION_UNSPECIFIED',
  RECOVERY_ACTION_COMMIT: 'RECOVERY_ACTION_COMMIT',
  RECOVERY_ACTION_ROLLBACK: 'RECOVERY_ACTION_ROLLBACK',
  /**
   * Seen once; rolled back when still there after the grace period.
   */
  RECOVERY_ACTION_ROLLBACK_AFTER_GRACE: 'RECOVERY_ACTION_ROLLBACK_AFTER_GRACE',
  RECOVERY_ACTION_WAIT: 'RECOVERY_ACTION_WAIT',
  RECOVERY_ACTION_NONE: 'RECOVERY_ACTION_NONE',
  /**
   * Given up by an operator (RESOLUTION_ABANDON): nothing was sent to the
   * resource, whose server is gone.
   */
  RECOVERY_ACTION_ABANDON: 'RECOVERY_ACTION_ABANDON',
} as const;

export type RecoveryAction =
  | 'RECOVERY_ACTION_UNSPECIFIED'
  | 0
  | 'RECOVERY_ACTION_COMMIT'
  | 1
  | 'RECOVERY_ACTION_ROLLBACK'
  | 2
  /**
   * Seen once; rolled back when still there after the grace period.
   */
  | 'RECOVERY_ACTION_ROLLBACK_AFTER_GRACE'
  | 3
  | 'RECOVERY_ACTION_WAIT'
  | 4
  | 'RECOVERY_ACTION_NONE'
  | 5
  /**
   * Given up by an operator (RESOLUTION_ABANDON): nothing was sent to the
   * resource, whose server is gone.
   */
  | 'RECOVERY_ACTION_ABANDON'
  | 6

export type RecoveryAction__Output = typeof RecoveryAction[keyof typeof RecoveryAction]
