// Original file: proto/arbiter/v1/transaction_manager.proto

import type { CommittedLocalBranches as _arbiter_v1_CommittedLocalBranches, CommittedLocalBranches__Output as _arbiter_v1_CommittedLocalBranches__Output } from '../../arbiter/v1/CommittedLocalBranches.js';

export interface CompleteLocalBranchesRequest {
  'gtrid'?: (string);
  'committedBquals'?: (Buffer | Uint8Array | string)[];
  /**
   * Reports for further transactions in the same request (gtrid may then be
   * empty): a client gathers its reports for a few milliseconds and sends
   * them together. Every entry is applied; an error names the first that
   * could not be.
   */
  'batch'?: (_arbiter_v1_CommittedLocalBranches)[];
}

export interface CompleteLocalBranchesRequest__Output {
  'gtrid': (string);
  'committedBquals': (Buffer)[];
  /**
   * Reports for further transactions in the same request (gtrid may then be
   * empty): a client gathers its reports for a few milliseconds and sends
   * them together. Every entry is applied; an error names the first that
   * could not be.
   */
  'batch': (_arbiter_v1_CommittedLocalBranches__Output)[];
}
