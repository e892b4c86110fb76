// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';
import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';

export interface CommitResponse {
  'transaction'?: (_arbiter_v1_Transaction | null);
  /**
   * Local branches the application should now commit on its own
   * connections (then call CompleteLocalBranches); the TM finishes any it
   * does not hear about. The answer to a repeated Commit for a transaction
   * the TM took up from its decision log (after a restart or a takeover)
   * lists none: an application commits every local branch it prepared
   * (voted read_only = false) once the transaction is committed, whatever
   * this list holds, as the TypeScript client does.
   */
  'commitLocally'?: (_arbiter_v1_Xid)[];
}

export interface CommitResponse__Output {
  'transaction': (_arbiter_v1_Transaction__Output | null);
  /**
   * Local branches the application should now commit on its own
   * connections (then call CompleteLocalBranches); the TM finishes any it
   * does not hear about. The answer to a repeated Commit for a transaction
   * the TM took up from its decision log (after a restart or a takeover)
   * lists none: an application commits every local branch it prepared
   * (voted read_only = false) once the transaction is committed, whatever
   * this list holds, as the TypeScript client does.
   */
  'commitLocally': (_arbiter_v1_Xid__Output)[];
}
