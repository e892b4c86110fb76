// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Long } from '@grpc/proto-loader';

export interface BeginResponse {
  'gtrid'?: (string);
  'deadlineUnixMs'?: (number | string | Long);
  /**
   * The TM's clock when it answered, and the timeout it applies when a
   * request gives none: what a client needs to name its next transactions
   * itself (see ExecuteRequest.begin).
   */
  'serverTimeUnixMs'?: (number | string | Long);
  'defaultTimeoutMs'?: (number);
  /**
   * Names this run of the TM (new at every start). A transaction the client
   * named under one run is never begun by another: the new run cannot know
   * what the old one had already rolled back.
   */
  'tmInstance'?: (string);
}

export interface BeginResponse__Output {
  'gtrid': (string);
  'deadlineUnixMs': (string);
  /**
   * The TM's clock when it answered, and the timeout it applies when a
   * request gives none: what a client needs to name its next transactions
   * itself (see ExecuteRequest.begin).
   */
  'serverTimeUnixMs': (string);
  'defaultTimeoutMs': (number);
  /**
   * Names this run of the TM (new at every start). A transaction the client
   * named under one run is never begun by another: the new run cannot know
   * what the old one had already rolled back.
   */
  'tmInstance': (string);
}
