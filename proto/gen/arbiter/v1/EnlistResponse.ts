// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';

export interface EnlistResponse {
  'xid'?: (_arbiter_v1_Xid | null);
}

export interface EnlistResponse__Output {
  'xid': (_arbiter_v1_Xid__Output | null);
}
