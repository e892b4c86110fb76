// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Member as _arbiter_v1_Member, Member__Output as _arbiter_v1_Member__Output } from '../../arbiter/v1/Member.js';

export interface ListMembersResponse {
  'members'?: (_arbiter_v1_Member)[];
  /**
   * The node that answered.
   */
  'nodeId'?: (string);
}

export interface ListMembersResponse__Output {
  'members': (_arbiter_v1_Member__Output)[];
  /**
   * The node that answered.
   */
  'nodeId': (string);
}
