// Original file: proto/arbiter/v1/transaction_manager.proto

import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from '../../arbiter/v1/BeginRequest.js';
import type { ExecuteRequest as _arbiter_v1_ExecuteRequest, ExecuteRequest__Output as _arbiter_v1_ExecuteRequest__Output } from '../../arbiter/v1/ExecuteRequest.js';
import type { EnlistRequest as _arbiter_v1_EnlistRequest, EnlistRequest__Output as _arbiter_v1_EnlistRequest__Output } from '../../arbiter/v1/EnlistRequest.js';
import type { CommitRequest as _arbiter_v1_CommitRequest, CommitRequest__Output as _arbiter_v1_CommitRequest__Output } from '../../arbiter/v1/CommitRequest.js';
import type { CompleteLocalBranchesRequest as _arbiter_v1_CompleteLocalBranchesRequest, CompleteLocalBranchesRequest__Output as _arbiter_v1_CompleteLocalBranchesRequest__Output } from '../../arbiter/v1/CompleteLocalBranchesRequest.js';
import type { RollbackRequest as _arbiter_v1_RollbackRequest, RollbackRequest__Output as _arbiter_v1_RollbackRequest__Output } from '../../arbiter/v1/RollbackRequest.js';
import type { GetTransactionRequest as _arbiter_v1_GetTransactionRequest, GetTransactionRequest__Output as _arbiter_v1_GetTransactionRequest__Output } from '../../arbiter/v1/GetTransactionRequest.js';
import type { RunRequest as _arbiter_v1_RunRequest, RunRequest__Output as _arbiter_v1_RunRequest__Output } from '../../arbiter/v1/RunRequest.js';
import type { ExecuteBatchRequest as _arbiter_v1_ExecuteBatchRequest, ExecuteBatchRequest__Output as _arbiter_v1_ExecuteBatchRequest__Output } from '../../arbiter/v1/ExecuteBatchRequest.js';

export interface SessionRequest {
  /**
   * Chosen by the client, unique among its requests in flight on the stream.
   */
  'id'?: (number);
  'begin'?: (_arbiter_v1_BeginRequest | null);
  'execute'?: (_arbiter_v1_ExecuteRequest | null);
  'enlist'?: (_arbiter_v1_EnlistRequest | null);
  'commit'?: (_arbiter_v1_CommitRequest | null);
  'completeLocalBranches'?: (_arbiter_v1_CompleteLocalBranchesRequest | null);
  'rollback'?: (_arbiter_v1_RollbackRequest | null);
  'getTransaction'?: (_arbiter_v1_GetTransactionRequest | null);
  'run'?: (_arbiter_v1_RunRequest | null);
  'executeBatch'?: (_arbiter_v1_ExecuteBatchRequest | null);
  /**
   * W3C trace context of the caller's span (https://www.w3.org/TR/trace-context/),
   * as a unary call carries it in its `traceparent` / `tracestate` metadata:
   * the TM's spans for this request continue the caller's trace. Empty: none.
   */
  'traceparent'?: (string);
  'tracestate'?: (string);
  'request'?: "begin"|"execute"|"enlist"|"commit"|"completeLocalBranches"|"rollback"|"getTransaction"|"run"|"executeBatch";
}

export interface SessionRequest__Output {
  /**
   * Chosen by the client, unique among its requests in flight on the stream.
   */
  'id': (number);
  'begin'?: (_arbiter_v1_BeginRequest__Output | null);
  'execute'?: (_arbiter_v1_ExecuteRequest__Output | null);
  'enlist'?: (_arbiter_v1_EnlistRequest__Output | null);
  'commit'?: (_arbiter_v1_CommitRequest__Output | null);
  'completeLocalBranches'?: (_arbiter_v1_CompleteLocalBranchesRequest__Output | null);
  'rollback'?: (_arbiter_v1_RollbackRequest__Output | null);
  'getTransaction'?: (_arbiter_v1_GetTransactionRequest__Output | null);
  'run'?: (_arbiter_v1_RunRequest__Output | null);
  'executeBatch'?: (_arbiter_v1_ExecuteBatchRequest__Output | null);
  /**
   * W3C trace context of the caller's span (https://www.w3.org/TR/trace-context/),
   * as a unary call carries it in its `traceparent` / `tracestate` metadata:
   * the TM's spans for this request continue the caller's trace. Empty: none.
   */
  'traceparent': (string);
  'tracestate': (string);
  'request'?: "begin"|"execute"|"enlist"|"commit"|"completeLocalBranches"|"rollback"|"getTransaction"|"run"|"executeBatch";
}
