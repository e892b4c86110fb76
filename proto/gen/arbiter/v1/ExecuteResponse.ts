// Original file: proto/arbiter/v1/transaction_manager.proto

import type { ResultSet as _arbiter_v1_ResultSet, ResultSet__Output as _arbiter_v1_ResultSet__Output } from '../../arbiter/v1/ResultSet.js';

export interface ExecuteResponse {
  'result'?: (_arbiter_v1_ResultSet | null);
}

export interface ExecuteResponse__Output {
  'result': (_arbiter_v1_ResultSet__Output | null);
}
