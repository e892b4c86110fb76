// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Long } from '@grpc/proto-loader';

export interface Member {
  'nodeId'?: (string);
  /**
   * cluster.advertiseAddress, else the address it listens on.
   */
  'address'?: (string);
  /**
   * Its lease is live (by the store's clock): it serves. False for a node
   * that stopped, died, or was taken over and has not rejoined.
   */
  'live'?: (boolean);
  /**
   * Bumped by every join and takeover.
   */
  'epoch'?: (number | string | Long);
  /**
   * What is left of its lease, as the store counts it (0 when lapsed).
   */
  'leaseLeftMs'?: (number);
  /**
   * Another node took this one's transactions over (and it has not rejoined since).
   */
  'takenOverBy'?: (string);
}

export interface Member__Output {
  'nodeId': (string);
  /**
   * cluster.advertiseAddress, else the address it listens on.
   */
  'address': (string);
  /**
   * Its lease is live (by the store's clock): it serves. False for a node
   * that stopped, died, or was taken over and has not rejoined.
   */
  'live': (boolean);
  /**
   * Bumped by every join and takeover.
   */
  'epoch': (string);
  /**
   * What is left of its lease, as the store counts it (0 when lapsed).
   */
  'leaseLeftMs': (number);
  /**
   * Another node took this one's transactions over (and it has not rejoined since).
   */
  'takenOverBy': (string);
}
