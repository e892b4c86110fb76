// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Value as _arbiter_v1_Value, Value__Output as _arbiter_v1_Value__Output } from '../../arbiter/v1/Value.js';

export interface Statement {
  'resource'?: (string);
  'sql'?: (string);
  'params'?: (_arbiter_v1_Value)[];
}

export interface Statement__Output {
  'resource': (string);
  'sql': (string);
  'params': (_arbiter_v1_Value__Output)[];
}
