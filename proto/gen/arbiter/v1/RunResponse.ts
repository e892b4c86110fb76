// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';
import type { ResultSet as _arbiter_v1_ResultSet, ResultSet__Output as _arbiter_v1_ResultSet__Output } from '../../arbiter/v1/ResultSet.js';

export interface RunResponse {
  'transaction'?: (_arbiter_v1_Transaction | null);
  /**
   * One result per statement, in order.
   */
  'results'?: (_arbiter_v1_ResultSet)[];
  /**
   * A repeated Run whose first run's results were not kept (over 1 MiB, or
   * the transaction is known only from the decision log): results is empty.
   */
  'resultsDropped'?: (boolean);
}

export interface RunResponse__Output {
  'transaction': (_arbiter_v1_Transaction__Output | null);
  /**
   * One result per statement, in order.
   */
  'results': (_arbiter_v1_ResultSet__Output)[];
  /**
   * A repeated Run whose first run's results were not kept (over 1 MiB, or
   * the transaction is known only from the decision log): results is empty.
   */
  'resultsDropped': (boolean);
}
