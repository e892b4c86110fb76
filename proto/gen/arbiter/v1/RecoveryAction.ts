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

export type RecoveryAction__Output = typeof RecoveryAction[keyof typeof RecoveryAction]
