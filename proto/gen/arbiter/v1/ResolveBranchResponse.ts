// Original file: proto/arbiter/v1/admin.proto

import type { RecoveryStep as _arbiter_v1_RecoveryStep, RecoveryStep__Output as _arbiter_v1_RecoveryStep__Output } from '../../arbiter/v1/RecoveryStep.js';

export interface ResolveBranchResponse {
  'steps'?: (_arbiter_v1_RecoveryStep)[];
  'heuristic'?: (boolean);
}

export interface ResolveBranchResponse__Output {
  'steps': (_arbiter_v1_RecoveryStep__Output)[];
  'heuristic': (boolean);
}
