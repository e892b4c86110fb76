// Original file: proto/arbiter/v1/admin.proto

import type { InDoubtBranch as _arbiter_v1_InDoubtBranch, InDoubtBranch__Output as _arbiter_v1_InDoubtBranch__Output } from '../../arbiter/v1/InDoubtBranch.js';

export interface ListInDoubtResponse {
  'branches'?: (_arbiter_v1_InDoubtBranch)[];
  /**
   * Resources that could not be scanned, with the reason.
   */
  'unreachable'?: ({[key: string]: string});
}

export interface ListInDoubtResponse__Output {
  'branches': (_arbiter_v1_InDoubtBranch__Output)[];
  /**
   * Resources that could not be scanned, with the reason.
   */
  'unreachable': ({[key: string]: string});
}
