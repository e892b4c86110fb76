// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Long } from '@grpc/proto-loader';

export interface BeginResponse {
  'gtrid'?: (string);
  'deadlineUnixMs'?: (number | string | Long);
}

export interface BeginResponse__Output {
  'gtrid': (string);
  'deadlineUnixMs': (string);
}
