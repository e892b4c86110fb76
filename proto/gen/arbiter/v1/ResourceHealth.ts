// Original file: proto/arbiter/v1/admin.proto

import type { ResourceState as _arbiter_v1_ResourceState, ResourceState__Output as _arbiter_v1_ResourceState__Output } from '../../arbiter/v1/ResourceState.js';

export interface ResourceHealth {
  'name'?: (string);
  'kind'?: (string);
  /**
   * True when state is READY.
   */
  'reachable'?: (boolean);
  /**
   * Why it is not READY.
   */
  'error'?: (string);
  /**
   * The fields below are absent when the resource did not tell them (it is
   * not reachable, or the kind has no such thing): absent is not zero.
   */
  'preparedBranches'?: (number);
  /**
   * PostgreSQL only: max_prepared_transactions minus prepared transactions.
   */
  'preparedHeadroom'?: (number);
  'poolInUse'?: (number);
  'poolSize'?: (number);
  'state'?: (_arbiter_v1_ResourceState);
  '_preparedBranches'?: "preparedBranches";
  '_preparedHeadroom'?: "preparedHeadroom";
  '_poolInUse'?: "poolInUse";
  '_poolSize'?: "poolSize";
}

export interface ResourceHealth__Output {
  'name': (string);
  'kind': (string);
  /**
   * True when state is READY.
   */
  'reachable': (boolean);
  /**
   * Why it is not READY.
   */
  'error': (string);
  /**
   * The fields below are absent when the resource did not tell them (it is
   * not reachable, or the kind has no such thing): absent is not zero.
   */
  'preparedBranches'?: (number);
  /**
   * PostgreSQL only: max_prepared_transactions minus prepared transactions.
   */
  'preparedHeadroom'?: (number);
  'poolInUse'?: (number);
  'poolSize'?: (number);
  'state': (_arbiter_v1_ResourceState__Output);
  '_preparedBranches'?: "preparedBranches";
  '_preparedHeadroom'?: "preparedHeadroom";
  '_poolInUse'?: "poolInUse";
  '_poolSize'?: "poolSize";
}
