// Original file: proto/arbiter/v1/admin.proto

import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';

export interface TransactionSummary {
  'transaction'?: (_arbiter_v1_Transaction | null);
  /**
   * In phase 2 for longer than the server's stuck threshold.
   */
  'stuck'?: (boolean);
}

export interface TransactionSummary__Output {
  'transaction': (_arbiter_v1_Transaction__Output | null);
  /**
   * In phase 2 for longer than the server's stuck threshold.
   */
  'stuck': (boolean);
}
