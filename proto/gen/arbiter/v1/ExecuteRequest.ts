// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from '../../arbiter/v1/Statement.js';

export interface ExecuteRequest {
  'gtrid'?: (string);
  'statement'?: (_arbiter_v1_Statement | null);
}

export interface ExecuteRequest__Output {
  'gtrid': (string);
  'statement': (_arbiter_v1_Statement__Output | null);
}
