// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';

export interface RollbackResponse {
  'transaction'?: (_arbiter_v1_Transaction | null);
}

export interface RollbackResponse__Output {
  'transaction': (_arbiter_v1_Transaction__Output | null);
}
