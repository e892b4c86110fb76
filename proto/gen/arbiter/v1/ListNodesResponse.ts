// Original file: proto/arbiter/v1/admin.proto

import type { NodeInfo as _arbiter_v1_NodeInfo, NodeInfo__Output as _arbiter_v1_NodeInfo__Output } from '../../arbiter/v1/NodeInfo.js';

export interface ListNodesResponse {
  'nodes'?: (_arbiter_v1_NodeInfo)[];
  /**
   * "file" (one node) or "postgres" (a cluster).
   */
  'store'?: (string);
}

export interface ListNodesResponse__Output {
  'nodes': (_arbiter_v1_NodeInfo__Output)[];
  /**
   * "file" (one node) or "postgres" (a cluster).
   */
  'store': (string);
}
