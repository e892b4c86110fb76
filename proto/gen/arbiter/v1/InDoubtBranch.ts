// Original file: proto/arbiter/v1/admin.proto

import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from '../../arbiter/v1/Xid.js';
import type { LogKnowledge as _arbiter_v1_LogKnowledge, LogKnowledge__Output as _arbiter_v1_LogKnowledge__Output } from '../../arbiter/v1/LogKnowledge.js';
import type { RecoveryAction as _arbiter_v1_RecoveryAction, RecoveryAction__Output as _arbiter_v1_RecoveryAction__Output } from '../../arbiter/v1/RecoveryAction.js';
import type { Long } from '@grpc/proto-loader';

export interface InDoubtBranch {
  'resource'?: (string);
  /**
   * Set for Arbiter's branches.
   */
  'xid'?: (_arbiter_v1_Xid | null);
  'gtrid'?: (string);
  /**
   * The server's own identifier, as it lists it (for foreign ones too).
   */
  'rawId'?: (string);
  /**
   * Age where the server tells it (PostgreSQL), else read from the gtrid;
   * absent when neither tells it (a foreign branch on MySQL/MariaDB).
   */
  'ageMs'?: (number | string | Long);
  'knowledge'?: (_arbiter_v1_LogKnowledge);
  'action'?: (_arbiter_v1_RecoveryAction);
  /**
   * The node whose recovery finishes it: the one holding its transaction in
   * the shared store, else the node its gtrid names or the node that took
   * that one over. Empty for foreign branches.
   */
  'node'?: (string);
  /**
   * Why recovery acts as `action` says (or leaves the branch alone), in
   * words; empty for foreign branches.
   */
  'why'?: (string);
  /**
   * Set for another node's branch in a cluster: whether `node` holds a live
   * lease now. False: it is down and not yet taken over, so nothing finishes
   * the branch until a takeover or its restart.
   */
  'nodeLive'?: (boolean);
  '_ageMs'?: "ageMs";
  '_nodeLive'?: "nodeLive";
}

export interface InDoubtBranch__Output {
  'resource': (string);
  /**
   * Set for Arbiter's branches.
   */
  'xid': (_arbiter_v1_Xid__Output | null);
  'gtrid': (string);
  /**
   * The server's own identifier, as it lists it (for foreign ones too).
   */
  'rawId': (string);
  /**
   * Age where the server tells it (PostgreSQL), else read from the gtrid;
   * absent when neither tells it (a foreign branch on MySQL/MariaDB).
   */
  'ageMs'?: (string);
  'knowledge': (_arbiter_v1_LogKnowledge__Output);
  'action': (_arbiter_v1_RecoveryAction__Output);
  /**
   * The node whose recovery finishes it: the one holding its transaction in
   * the shared store, else the node its gtrid names or the node that took
   * that one over. Empty for foreign branches.
   */
  'node': (string);
  /**
   * Why recovery acts as `action` says (or leaves the branch alone), in
   * words; empty for foreign branches.
   */
  'why': (string);
  /**
   * Set for another node's branch in a cluster: whether `node` holds a live
   * lease now. False: it is down and not yet taken over, so nothing finishes
   * the branch until a takeover or its restart.
   */
  'nodeLive'?: (boolean);
  '_ageMs'?: "ageMs";
  '_nodeLive'?: "nodeLive";
}
