// Original file: proto/arbiter/v1/admin.proto

import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';
import type { Resolution as _arbiter_v1_Resolution, Resolution__Output as _arbiter_v1_Resolution__Output } from '../../arbiter/v1/Resolution.js';

export interface ResolveBranchRequest {
  /**
   * Either a whole transaction (gtrid, every branch) or one branch
   * (resource + xid).
   */
  'gtrid'?: (string);
  'resource'?: (string);
  'xid'?: (_arbiter_v1_Xid | null);
  'resolution'?: (_arbiter_v1_Resolution);
  /**
   * Required: why, for the audit record.
   */
  'reason'?: (string);
  /**
   * Needed to contradict a logged decision; the outcome is then HEURISTIC.
   */
  'force'?: (boolean);
}

export interface ResolveBranchRequest__Output {
  /**
   * Either a whole transaction (gtrid, every branch) or one branch
   * (resource + xid).
   */
  'gtrid': (string);
  'resource': (string);
  'xid': (_arbiter_v1_Xid__Output | null);
  'resolution': (_arbiter_v1_Resolution__Output);
  /**
   * Required: why, for the audit record.
   */
  'reason': (string);
  /**
   * Needed to contradict a logged decision; the outcome is then HEURISTIC.
   */
  'force': (boolean);
}
