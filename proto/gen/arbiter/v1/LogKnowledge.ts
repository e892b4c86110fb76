// Original file: proto/arbiter/v1/admin.proto

export const LogKnowledge = {
  LOG_KNOWLEDGE_UNSPECIFIED: 'LOG_KNOWLEDGE_UNSPECIFIED',
  /**
   * A COMMIT decision is logged.
   */
  LOG_KNOWLEDGE_COMMITTED: 'LOG_KNOWLEDGE_COMMITTED',
  /**
   * No decision: presumed abort once the transaction is not live.
   */
  LOG_KNOWLEDGE_NO_DECISION: 'LOG_KNOWLEDGE_NO_DECISION',
  /**
   * The transaction is live on this TM (being prepared or committed now).
   */
  LOG_KNOWLEDGE_LIVE: 'LOG_KNOWLEDGE_LIVE',
  /**
   * An operator resolved it.
   */
  LOG_KNOWLEDGE_RESOLVED_COMMIT: 'LOG_KNOWLEDGE_RESOLVED_COMMIT',
  LOG_KNOWLEDGE_RESOLVED_ROLLBACK: 'LOG_KNOWLEDGE_RESOLVED_ROLLBACK',
  /**
   * Not Arbiter's: a foreign prepared transaction, never touched.
   */
  LOG_KNOWLEDGE_FOREIGN: 'LOG_KNOWLEDGE_FOREIGN',
  /**
   * Arbiter's, but begun by another TM node: this node's log knows nothing
   * of it and its recovery leaves it alone. In a cluster, what the shared
   * store knows is reported instead (COMMITTED, NO_DECISION for a presumed
   * abort, RESOLVED_*) with the node that finishes it; OTHER_NODE then
   * means that node may still decide it.
   */
  LOG_KNOWLEDGE_OTHER_NODE: 'LOG_KNOWLEDGE_OTHER_NODE',
} as const;

export type LogKnowledge =
  | 'LOG_KNOWLEDGE_UNSPECIFIED'
  | 0
  /**
   * A COMMIT decision is logged.
   */
  | 'LOG_KNOWLEDGE_COMMITTED'
  | 1
  /**
   * No decision: presumed abort once the transaction is not live.
   */
  | 'LOG_KNOWLEDGE_NO_DECISION'
  | 2
  /**
   * The transaction is live on this TM (being prepared or committed now).
   */
  | 'LOG_KNOWLEDGE_LIVE'
  | 3
  /**
   * An operator resolved it.
   */
  | 'LOG_KNOWLEDGE_RESOLVED_COMMIT'
  | 4
  | 'LOG_KNOWLEDGE_RESOLVED_ROLLBACK'
  | 5
  /**
   * Not Arbiter's: a foreign prepared transaction, never touched.
   */
  | 'LOG_KNOWLEDGE_FOREIGN'
  | 6
  /**
   * Arbiter's, but begun by another TM node: this node's log knows nothing
   * of it and its recovery leaves it alone. In a cluster, what the shared
   * store knows is reported instead (COMMITTED, NO_DECISION for a presumed
   * abort, RESOLVED_*) with the node that finishes it; OTHER_NODE then
   * means that node may still decide it.
   */
  | 'LOG_KNOWLEDGE_OTHER_NODE'
  | 7

export type LogKnowledge__Output = typeof LogKnowledge[keyof typeof LogKnowledge]
