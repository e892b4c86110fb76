// Original file: proto/arbiter/v1/transaction.proto

/**
 * How long Commit waits before answering.
 */
export const WaitFor = {
  /**
   * Default: after phase 2, so the caller can read its own writes.
   */
  WAIT_FOR_UNSPECIFIED: 'WAIT_FOR_UNSPECIFIED',
  WAIT_FOR_APPLIED: 'WAIT_FOR_APPLIED',
  /**
   * At the commit point: the decision is durable, phase 2 runs on.
   */
  WAIT_FOR_DURABLE: 'WAIT_FOR_DURABLE',
} as const;

/**
 * How long Commit waits before answering.
 */
export type WaitFor =
  /**
   * Default: after phase 2, so the caller can read its own writes.
   */
  | 'WAIT_FOR_UNSPECIFIED'
  | 0
  | 'WAIT_FOR_APPLIED'
  | 1
  /**
   * At the commit point: the decision is durable, phase 2 runs on.
   */
  | 'WAIT_FOR_DURABLE'
  | 2

/**
 * How long Commit waits before answering.
 */
export type WaitFor__Output = typeof WaitFor[keyof typeof WaitFor]
