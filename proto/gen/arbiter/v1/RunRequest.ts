// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from '../../arbiter/v1/Statement.js';
import type { WaitFor as _arbiter_v1_WaitFor, WaitFor__Output as _arbiter_v1_WaitFor__Output } from '../../arbiter/v1/WaitFor.js';

export interface RunRequest {
  'timeoutMs'?: (number);
  'labels'?: ({[key: string]: string});
  'statements'?: (_arbiter_v1_Statement)[];
  'waitFor'?: (_arbiter_v1_WaitFor);
}

export interface RunRequest__Output {
  'timeoutMs': (number);
  'labels': ({[key: string]: string});
  'statements': (_arbiter_v1_Statement__Output)[];
  'waitFor': (_arbiter_v1_WaitFor__Output);
}
