// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from '../../arbiter/v1/Statement.js';
import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from '../../arbiter/v1/BeginRequest.js';

export interface ExecuteBatchRequest {
  'gtrid'?: (string);
  'statements'?: (_arbiter_v1_Statement)[];
  /**
   * As ExecuteRequest.begin.
   */
  'begin'?: (_arbiter_v1_BeginRequest | null);
}

export interface ExecuteBatchRequest__Output {
  'gtrid': (string);
  'statements': (_arbiter_v1_Statement__Output)[];
  /**
   * As ExecuteRequest.begin.
   */
  'begin': (_arbiter_v1_BeginRequest__Output | null);
}
