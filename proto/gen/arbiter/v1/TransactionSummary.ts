// Original file: proto/arbiter/v1/admin.proto

import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';

export interface TransactionSummary {
  'transaction'?: (_arbiter_v1_Transaction | null);
  /**
   * In phase 2 for longer than the server's stuck threshold.
   */
  'stuck'?: (boolean);
  /**
   * The node that holds it (drives its phase 2 and its recovery). In a
   * cluster the list holds the answering node's transactions and every
   * node's decided, unfinished ones (from the shared store); a transaction
   * still in progress is known only to its node.
   */
  'node'?: (string);
}

export interface TransactionSummary__Output {
  'transaction': (_arbiter_v1_Transaction__Output | null);
  /**
   * In phase 2 for longer than the server's stuck threshold.
   */
  'stuck': (boolean);
  /**
   * The node that holds it (drives its phase 2 and its recovery). In a
   * cluster the list holds the answering node's transactions and every
   * node's decided, unfinished ones (from the shared store); a transaction
   * still in progress is known only to its node.
   */
  'node': (string);
}
