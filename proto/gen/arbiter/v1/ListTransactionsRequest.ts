// Original file: proto/arbiter/v1/admin.proto

import type { TransactionState as _arbiter_v1_TransactionState, TransactionState__Output as _arbiter_v1_TransactionState__Output } from '../../arbiter/v1/TransactionState.js';
import type { Long } from '@grpc/proto-loader';

export interface ListTransactionsRequest {
  /**
   * Empty: every state.
   */
  'states'?: (_arbiter_v1_TransactionState)[];
  /**
   * Only transactions created at least this long ago.
   */
  'olderThanMs'?: (number | string | Long);
  'resource'?: (string);
  /**
   * "key=value"
   */
  'label'?: (string);
  'pageSize'?: (number);
  'pageToken'?: (string);
}

export interface ListTransactionsRequest__Output {
  /**
   * Empty: every state.
   */
  'states': (_arbiter_v1_TransactionState__Output)[];
  /**
   * Only transactions created at least this long ago.
   */
  'olderThanMs': (string);
  'resource': (string);
  /**
   * "key=value"
   */
  'label': (string);
  'pageSize': (number);
  'pageToken': (string);
}
