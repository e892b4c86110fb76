// Original file: proto/arbiter/v1/transaction.proto

import type { TransactionState as _arbiter_v1_TransactionState, TransactionState__Output as _arbiter_v1_TransactionState__Output } from '../../arbiter/v1/TransactionState.js';
import type { Branch as _arbiter_v1_Branch, Branch__Output as _arbiter_v1_Branch__Output } from '../../arbiter/v1/Branch.js';
import type { Long } from '@grpc/proto-loader';

export interface Transaction {
  'gtrid'?: (string);
  'state'?: (_arbiter_v1_TransactionState);
  'branches'?: (_arbiter_v1_Branch)[];
  'labels'?: ({[key: string]: string});
  'createdAtUnixMs'?: (number | string | Long);
  'deadlineUnixMs'?: (number | string | Long);
  'updatedAtUnixMs'?: (number | string | Long);
  /**
   * Why it rolled back, when it did.
   */
  'abortReason'?: (string);
  /**
   * "one-phase", "read-only", "two-phase": the commit path taken.
   */
  'commitPath'?: (string);
}

export interface Transaction__Output {
  'gtrid': (string);
  'state': (_arbiter_v1_TransactionState__Output);
  'branches': (_arbiter_v1_Branch__Output)[];
  'labels': ({[key: string]: string});
  'createdAtUnixMs': (string);
  'deadlineUnixMs': (string);
  'updatedAtUnixMs': (string);
  /**
   * Why it rolled back, when it did.
   */
  'abortReason': (string);
  /**
   * "one-phase", "read-only", "two-phase": the commit path taken.
   */
  'commitPath': (string);
}
