// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from '../../google/rpc/Status.js';
import type { BeginResponse as _arbiter_v1_BeginResponse, BeginResponse__Output as _arbiter_v1_BeginResponse__Output } from '../../arbiter/v1/BeginResponse.js';
import type { ExecuteResponse as _arbiter_v1_ExecuteResponse, ExecuteResponse__Output as _arbiter_v1_ExecuteResponse__Output } from '../../arbiter/v1/ExecuteResponse.js';
import type { EnlistResponse as _arbiter_v1_EnlistResponse, EnlistResponse__Output as _arbiter_v1_EnlistResponse__Output } from '../../arbiter/v1/EnlistResponse.js';
import type { CommitResponse as _arbiter_v1_CommitResponse, CommitResponse__Output as _arbiter_v1_CommitResponse__Output } from '../../arbiter/v1/CommitResponse.js';
import type { CompleteLocalBranchesResponse as _arbiter_v1_CompleteLocalBranchesResponse, CompleteLocalBranchesResponse__Output as _arbiter_v1_CompleteLocalBranchesResponse__Output } from '../../arbiter/v1/CompleteLocalBranchesResponse.js';
import type { RollbackResponse as _arbiter_v1_RollbackResponse, RollbackResponse__Output as _arbiter_v1_RollbackResponse__Output } from '../../arbiter/v1/RollbackResponse.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';
import type { RunResponse as _arbiter_v1_RunResponse, RunResponse__Output as _arbiter_v1_RunResponse__Output } from '../../arbiter/v1/RunResponse.js';
import type { ExecuteBatchResponse as _arbiter_v1_ExecuteBatchResponse, ExecuteBatchResponse__Output as _arbiter_v1_ExecuteBatchResponse__Output } from '../../arbiter/v1/ExecuteBatchResponse.js';

export interface SessionResponse {
  /**
   * The id of the request this answers.
   */
  'id'?: (number);
  /**
   * The request failed: the status a unary call would have ended with
   * (code, message, google.rpc.ErrorInfo in details).
   */
  'error'?: (_google_rpc_Status | null);
  'begin'?: (_arbiter_v1_BeginResponse | null);
  'execute'?: (_arbiter_v1_ExecuteResponse | null);
  'enlist'?: (_arbiter_v1_EnlistResponse | null);
  'commit'?: (_arbiter_v1_CommitResponse | null);
  'completeLocalBranches'?: (_arbiter_v1_CompleteLocalBranchesResponse | null);
  'rollback'?: (_arbiter_v1_RollbackResponse | null);
  'getTransaction'?: (_arbiter_v1_Transaction | null);
  'run'?: (_arbiter_v1_RunResponse | null);
  'executeBatch'?: (_arbiter_v1_ExecuteBatchResponse | null);
  'response'?: "error"|"begin"|"execute"|"enlist"|"commit"|"completeLocalBranches"|"rollback"|"getTransaction"|"run"|"executeBatch";
}

export interface SessionResponse__Output {
  /**
   * The id of the request this answers.
   */
  'id': (number);
  /**
   * The request failed: the status a unary call would have ended with
   * (code, message, google.rpc.ErrorInfo in details).
   */
  'error'?: (_google_rpc_Status__Output | null);
  'begin'?: (_arbiter_v1_BeginResponse__Output | null);
  'execute'?: (_arbiter_v1_ExecuteResponse__Output | null);
  'enlist'?: (_arbiter_v1_EnlistResponse__Output | null);
  'commit'?: (_arbiter_v1_CommitResponse__Output | null);
  'completeLocalBranches'?: (_arbiter_v1_CompleteLocalBranchesResponse__Output | null);
  'rollback'?: (_arbiter_v1_RollbackResponse__Output | null);
  'getTransaction'?: (_arbiter_v1_Transaction__Output | null);
  'run'?: (_arbiter_v1_RunResponse__Output | null);
  'executeBatch'?: (_arbiter_v1_ExecuteBatchResponse__Output | null);
  'response'?: "error"|"begin"|"execute"|"enlist"|"commit"|"completeLocalBranches"|"rollback"|"getTransaction"|"run"|"executeBatch";
}
