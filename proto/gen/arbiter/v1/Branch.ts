// Original file: proto/arbiter/v1/transaction.proto

import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';
import type { BranchMode as _arbiter_v1_BranchMode, BranchMode__Output as _arbiter_v1_BranchMode__Output } from '../../arbiter/v1/BranchMode.js';
import type { BranchState as _arbiter_v1_BranchState, BranchState__Output as _arbiter_v1_BranchState__Output } from '../../arbiter/v1/BranchState.js';

export interface Branch {
  'resource'?: (string);
  'xid'?: (_arbiter_v1_Xid | null);
  'mode'?: (_arbiter_v1_BranchMode);
  'state'?: (_arbiter_v1_BranchState);
  /**
   * Phase-2 attempts so far.
   */
  'attempts'?: (number);
  /**
   * The last failure of a phase-2 (or cleanup) attempt; empty once it worked.
   */
  'lastError'?: (string);
  /**
   * An operator's resolution of this branch (Admin.ResolveBranch): what, who
   * and why, from the audit record in the decision log. Set by the Admin
   * service; empty when nobody resolved the branch.
   */
  'resolution'?: (string);
}

export interface Branch__Output {
  'resource': (string);
  'xid': (_arbiter_v1_Xid__Output | null);
  'mode': (_arbiter_v1_BranchMode__Output);
  'state': (_arbiter_v1_BranchState__Output);
  /**
   * Phase-2 attempts so far.
   */
  'attempts': (number);
  /**
   * The last failure of a phase-2 (or cleanup) attempt; empty once it worked.
   */
  'lastError': (string);
  /**
   * An operator's resolution of this branch (Admin.ResolveBranch): what, who
   * and why, from the audit record in the decision log. Set by the Admin
   * service; empty when nobody resolved the branch.
   */
  'resolution': (string);
}
