// Original file: proto/arbiter/v1/admin.proto

export const Resolution = {
  RESOLUTION_UNSPECIFIED: 'RESOLUTION_UNSPECIFIED',
  RESOLUTION_COMMIT: 'RESOLUTION_COMMIT',
  RESOLUTION_ROLLBACK: 'RESOLUTION_ROLLBACK',
  /**
   * For a branch of a logged COMMIT decision that phase 2 cannot finish
   * because its server is gone for good (lost with its data, or replaced):
   * phase 2 and recovery stop trying, nothing is sent to the resource (which
   * need not answer), and the transaction ends HEURISTIC, since that
   * branch's commit is not known to have happened. Needs force. Refused for
   * a branch its resource lists prepared (commit it), and for a transaction
   * without a decision (its branches are presumed aborted: nothing waits).
   * Should the branch turn up prepared again, recovery commits it, as the
   * decision says.
   */
  RESOLUTION_ABANDON: 'RESOLUTION_ABANDON',
} as const;

export type Resolution =
  | 'RESOLUTION_UNSPECIFIED'
  | 0
  | 'RESOLUTION_COMMIT'
  | 1
  | 'RESOLUTION_ROLLBACK'
  | 2
  /**
   * For a branch of a logged COMMIT decision that phase 2 cannot finish
   * because its server is gone for good (lost with its data, or replaced):
   * phase 2 and recovery stop trying, nothing is sent to the resource (which
   * need not answer), and the transaction ends HEURISTIC, since that
   * branch's commit is not known to have happened. Needs force. Refused for
   * a branch its resource lists prepared (commit it), and for a transaction
   * without a decision (its branches are presumed aborted: nothing waits).
   * Should the branch turn up prepared again, recovery commits it, as the
   * decision says.
   */
  | 'RESOLUTION_ABANDON'
  | 3

export type Resolution__Output = typeof Resolution[keyof typeof Resolution]
