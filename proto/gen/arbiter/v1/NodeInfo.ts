// Original file: proto/arbiter/v1/admin.proto

import type { Long } from '@grpc/proto-loader';

export interface NodeInfo {
  'nodeId'?: (string);
  'address'?: (string);
  /**
   * Its lease is live by the store's clock.
   */
  'live'?: (boolean);
  'epoch'?: (number | string | Long);
  'leaseLeftMs'?: (number);
  /**
   * Decided and not yet ended transactions it drives (its own and those it took over).
   */
  'unfinishedTransactions'?: (number);
  /**
   * Set while another node holds this one's work (it has not rejoined since).
   */
  'takenOverBy'?: (string);
  'takenOverAtUnixMs'?: (number | string | Long);
  /**
   * How many times another node took this one over.
   */
  'timesTakenOver'?: (number | string | Long);
  /**
   * The node that answered.
   */
  'thisNode'?: (boolean);
}

export interface NodeInfo__Output {
  'nodeId': (string);
  'address': (string);
  /**
   * Its lease is live by the store's clock.
   */
  'live': (boolean);
  'epoch': (string);
  'leaseLeftMs': (number);
  /**
   * Decided and not yet ended transactions it drives (its own and those it took over).
   */
  'unfinishedTransactions': (number);
  /**
   * Set while another node holds this one's work (it has not rejoined since).
   */
  'takenOverBy': (string);
  'takenOverAtUnixMs': (string);
  /**
   * How many times another node took this one over.
   */
  'timesTakenOver': (string);
  /**
   * The node that answered.
   */
  'thisNode': (boolean);
}
