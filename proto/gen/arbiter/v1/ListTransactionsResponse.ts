// Original file: proto/arbiter/v1/admin.proto

import type { TransactionSummary as _arbiter_v1_TransactionSummary, TransactionSummary__Output as _arbiter_v1_TransactionSummary__Output } from '../../arbiter/v1/TransactionSummary.js';

export interface ListTransactionsResponse {
  'transactions'?: (_arbiter_v1_TransactionSummary)[];
  'nextPageToken'?: (string);
}

export interface ListTransactionsResponse__Output {
  'transactions': (_arbiter_v1_TransactionSummary__Output)[];
  'nextPageToken': (string);
}
