// Original file: proto/arbiter/v1/admin.proto

import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';
import type { RecoveryAction as _arbiter_v1_RecoveryAction, RecoveryAction__Output as _arbiter_v1_RecoveryAction__Output } from '../../arbiter/v1/RecoveryAction.js';

export interface RecoveryStep {
  'resource'?: (string);
  'xid'?: (_arbiter_v1_Xid | null);
  'action'?: (_arbiter_v1_RecoveryAction);
  /**
   * "done", "already done", or the error.
   */
  'result'?: (string);
}

export interface RecoveryStep__Output {
  'resource': (string);
  'xid': (_arbiter_v1_Xid__Output | null);
  'action': (_arbiter_v1_RecoveryAction__Output);
  /**
   * "done", "already done", or the error.
   */
  'result': (string);
}
