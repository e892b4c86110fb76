// Original file: proto/arbiter/v1/transaction_manager.proto

import type { ResultSet as _arbiter_v1_ResultSet, ResultSet__Output as _arbiter_v1_ResultSet__Output } from '../../arbiter/v1/ResultSet.js';

export interface ExecuteBatchResponse {
  /**
   * One result per statement, in order.
   */
  'results'?: (_arbiter_v1_ResultSet)[];
}

export interface ExecuteBatchResponse__Output {
  /**
   * One result per statement, in order.
   */
  'results': (_arbiter_v1_ResultSet__Output)[];
}
