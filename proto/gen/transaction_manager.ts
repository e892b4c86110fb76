import type * as grpc from '@grpc/grpc-js';
import type { EnumTypeDefinition, MessageTypeDefinition } from '@grpc/proto-loader';

import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from './arbiter/v1/BeginRequest.js';
import type { BeginResponse as _arbiter_v1_BeginResponse, BeginResponse__Output as _arbiter_v1_BeginResponse__Output } from './arbiter/v1/BeginResponse.js';
import type { Branch as _arbiter_v1_Branch, Branch__Output as _arbiter_v1_Branch__Output } from './arbiter/v1/Branch.js';
import type { Column as _arbiter_v1_Column, Column__Output as _arbiter_v1_Column__Output } from './arbiter/v1/Column.js';
import type { CommitRequest as _arbiter_v1_CommitRequest, CommitRequest__Output as _arbiter_v1_CommitRequest__Output } from './arbiter/v1/CommitRequest.js';
import type { CommitResponse as _arbiter_v1_CommitResponse, CommitResponse__Output as _arbiter_v1_CommitResponse__Output } from './arbiter/v1/CommitResponse.js';
import type { CommittedLocalBranches as _arbiter_v1_CommittedLocalBranches, CommittedLocalBranches__Output as _arbiter_v1_CommittedLocalBranches__Output } from './arbiter/v1/CommittedLocalBranches.js';
import type { CompleteLocalBranchesRequest as _arbiter_v1_CompleteLocalBranchesRequest, CompleteLocalBranchesRequest__Output as _arbiter_v1_CompleteLocalBranchesRequest__Output } from './arbiter/v1/CompleteLocalBranchesRequest.js';
import type { CompleteLocalBranchesResponse as _arbiter_v1_CompleteLocalBranchesResponse, CompleteLocalBranchesResponse__Output as _arbiter_v1_CompleteLocalBranchesResponse__Output } from './arbiter/v1/CompleteLocalBranchesResponse.js';
import type { EnlistRequest as _arbiter_v1_EnlistRequest, EnlistRequest__Output as _arbiter_v1_EnlistRequest__Output } from './arbiter/v1/EnlistRequest.js';
import type { EnlistResponse as _arbiter_v1_EnlistResponse, EnlistResponse__Output as _arbiter_v1_EnlistResponse__Output } from './arbiter/v1/EnlistResponse.js';
import type { ExecuteBatchRequest as _arbiter_v1_ExecuteBatchRequest, ExecuteBatchRequest__Output as _arbiter_v1_ExecuteBatchRequest__Output } from './arbiter/v1/ExecuteBatchRequest.js';
import type { ExecuteBatchResponse as _arbiter_v1_ExecuteBatchResponse, ExecuteBatchResponse__Output as _arbiter_v1_ExecuteBatchResponse__Output } from './arbiter/v1/ExecuteBatchResponse.js';
import type { ExecuteRequest as _arbiter_v1_ExecuteRequest, ExecuteRequest__Output as _arbiter_v1_ExecuteRequest__Output } from './arbiter/v1/ExecuteRequest.js';
import type { ExecuteResponse as _arbiter_v1_ExecuteResponse, ExecuteResponse__Output as _arbiter_v1_ExecuteResponse__Output } from './arbiter/v1/ExecuteResponse.js';
import type { GetTransactionRequest as _arbiter_v1_GetTransactionRequest, GetTransactionRequest__Output as _arbiter_v1_GetTransactionRequest__Output } from './arbiter/v1/GetTransactionRequest.js';
import type { ListMembersRequest as _arbiter_v1_ListMembersRequest, ListMembersRequest__Output as _arbiter_v1_ListMembersRequest__Output } from './arbiter/v1/ListMembersRequest.js';
import type { ListMembersResponse as _arbiter_v1_ListMembersResponse, ListMembersResponse__Output as _arbiter_v1_ListMembersResponse__Output } from './arbiter/v1/ListMembersResponse.js';
import type { LocalVote as _arbiter_v1_LocalVote, LocalVote__Output as _arbiter_v1_LocalVote__Output } from './arbiter/v1/LocalVote.js';
import type { Member as _arbiter_v1_Member, Member__Output as _arbiter_v1_Member__Output } from './arbiter/v1/Member.js';
import type { ResultSet as _arbiter_v1_ResultSet, ResultSet__Output as _arbiter_v1_ResultSet__Output } from './arbiter/v1/ResultSet.js';
import type { RollbackRequest as _arbiter_v1_RollbackRequest, RollbackRequest__Output as _arbiter_v1_RollbackRequest__Output } from './arbiter/v1/RollbackRequest.js';
import type { RollbackResponse as _arbiter_v1_RollbackResponse, RollbackResponse__Output as _arbiter_v1_RollbackResponse__Output } from './arbiter/v1/RollbackResponse.js';
import type { Row as _arbiter_v1_Row, Row__Output as _arbiter_v1_Row__Output } from './arbiter/v1/Row.js';
import type { RunRequest as _arbiter_v1_RunRequest, RunRequest__Output as _arbiter_v1_RunRequest__Output } from './arbiter/v1/RunRequest.js';
import type { RunResponse as _arbiter_v1_RunResponse, RunResponse__Output as _arbiter_v1_RunResponse__Output } from './arbiter/v1/RunResponse.js';
import type { SessionRequest as _arbiter_v1_SessionRequest, SessionRequest__Output as _arbiter_v1_SessionRequest__Output } from './arbiter/v1/SessionRequest.js';
import type { SessionRequestBatch as _arbiter_v1_SessionRequestBatch, SessionRequestBatch__Output as _arbiter_v1_SessionRequestBatch__Output } from './arbiter/v1/SessionRequestBatch.js';
import type { SessionResponse as _arbiter_v1_SessionResponse, SessionResponse__Output as _arbiter_v1_SessionResponse__Output } from './arbiter/v1/SessionResponse.js';
import type { SessionResponseBatch as _arbiter_v1_SessionResponseBatch, SessionResponseBatch__Output as _arbiter_v1_SessionResponseBatch__Output } from './arbiter/v1/SessionResponseBatch.js';
import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from './arbiter/v1/Statement.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from './arbiter/v1/Transaction.js';
import type { TransactionManagerClient as _arbiter_v1_TransactionManagerClient, TransactionManagerDefinition as _arbiter_v1_TransactionManagerDefinition } from './arbiter/v1/TransactionManager.js';
import type { Value as _arbiter_v1_Value, Value__Output as _arbiter_v1_Value__Output } from './arbiter/v1/Value.js';
import type { Xid as _arbiter_v1_Xid, Xid__Output as _arbiter_v1_Xid__Output } from './arbiter/v1/Xid.js';
import type { Any as _google_protobuf_Any, Any__Output as _google_protobuf_Any__Output } from './google/protobuf/Any.js';
import type { Status as _google_rpc_Status, Status__Output as _google_rpc_Status__Output } from './google/rpc/Status.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  arbiter: {
    v1: {
      BeginRequest: MessageTypeDefinition<_arbiter_v1_BeginRequest, _arbiter_v1_BeginRequest__Output>
      BeginResponse: MessageTypeDefinition<_arbiter_v1_BeginResponse, _arbiter_v1_BeginResponse__Output>
      Branch: MessageTypeDefinition<_arbiter_v1_Branch, _arbiter_v1_Branch__Output>
      BranchMode: EnumTypeDefinition
      BranchState: EnumTypeDefinition
      Column: MessageTypeDefinition<_arbiter_v1_Column, _arbiter_v1_Column__Output>
      CommitRequest: MessageTypeDefinition<_arbiter_v1_CommitRequest, _arbiter_v1_CommitRequest__Output>
      CommitResponse: MessageTypeDefinition<_arbiter_v1_CommitResponse, _arbiter_v1_CommitResponse__Output>
      CommittedLocalBranches: MessageTypeDefinition<_arbiter_v1_CommittedLocalBranches, _arbiter_v1_CommittedLocalBranches__Output>
      CompleteLocalBranchesRequest: MessageTypeDefinition<_arbiter_v1_CompleteLocalBranchesRequest, _arbiter_v1_CompleteLocalBranchesRequest__Output>
      CompleteLocalBranchesResponse: MessageTypeDefinition<_arbiter_v1_CompleteLocalBranchesResponse, _arbiter_v1_CompleteLocalBranchesResponse__Output>
      EnlistRequest: MessageTypeDefinition<_arbiter_v1_EnlistRequest, _arbiter_v1_EnlistRequest__Output>
      EnlistResponse: MessageTypeDefinition<_arbiter_v1_EnlistResponse, _arbiter_v1_EnlistResponse__Output>
      ExecuteBatchRequest: MessageTypeDefinition<_arbiter_v1_ExecuteBatchRequest, _arbiter_v1_ExecuteBatchRequest__Output>
      ExecuteBatchResponse: MessageTypeDefinition<_arbiter_v1_ExecuteBatchResponse, _arbiter_v1_ExecuteBatchResponse__Output>
      ExecuteRequest: MessageTypeDefinition<_arbiter_v1_ExecuteRequest, _arbiter_v1_ExecuteRequest__Output>
      ExecuteResponse: MessageTypeDefinition<_arbiter_v1_ExecuteResponse, _arbiter_v1_ExecuteResponse__Output>
      GetTransactionRequest: MessageTypeDefinition<_arbiter_v1_GetTransactionRequest, _arbiter_v1_GetTransactionRequest__Output>
      ListMembersRequest: MessageTypeDefinition<_arbiter_v1_ListMembersRequest, _arbiter_v1_ListMembersRequest__Output>
      ListMembersResponse: MessageTypeDefinition<_arbiter_v1_ListMembersResponse, _arbiter_v1_ListMembersResponse__Output>
      LocalVote: MessageTypeDefinition<_arbiter_v1_LocalVote, _arbiter_v1_LocalVote__Output>
      Member: MessageTypeDefinition<_arbiter_v1_Member, _arbiter_v1_Member__Output>
      ResultSet: MessageTypeDefinition<_arbiter_v1_ResultSet, _arbiter_v1_ResultSet__Output>
      RollbackRequest: MessageTypeDefinition<_arbiter_v1_RollbackRequest, _arbiter_v1_RollbackRequest__Output>
      RollbackResponse: MessageTypeDefinition<_arbiter_v1_RollbackResponse, _arbiter_v1_RollbackResponse__Output>
      Row: MessageTypeDefinition<_arbiter_v1_Row, _arbiter_v1_Row__Output>
      RunRequest: MessageTypeDefinition<_arbiter_v1_RunRequest, _arbiter_v1_RunRequest__Output>
      RunResponse: MessageTypeDefinition<_arbiter_v1_RunResponse, _arbiter_v1_RunResponse__Output>
      SessionRequest: MessageTypeDefinition<_arbiter_v1_SessionRequest, _arbiter_v1_SessionRequest__Output>
      SessionRequestBatch: MessageTypeDefinition<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionRequestBatch__Output>
      SessionResponse: MessageTypeDefinition<_arbiter_v1_SessionResponse, _arbiter_v1_SessionResponse__Output>
      SessionResponseBatch: MessageTypeDefinition<_arbiter_v1_SessionResponseBatch, _arbiter_v1_SessionResponseBatch__Output>
      Statement: MessageTypeDefinition<_arbiter_v1_Statement, _arbiter_v1_Statement__Output>
      Transaction: MessageTypeDefinition<_arbiter_v1_Transaction, _arbiter_v1_Transaction__Output>
      /**
       * The application-facing service: one atomic change across several resources.
       * 
       * For a client in any language (examples/python/ follows this with plain
       * unary calls; the TypeScript client in client/ does the same on a Session
       * stream):
       * 
       * Request metadata:
       * - `authorization: Bearer <token>` on every call when the TM has
       * auth.tokens. A transaction then belongs to the token that began it:
       * another token gets PERMISSION_DENIED for it.
       * - `arbiter-max-receive-bytes: <n>` (optional): the most this client
       * receives in one message (its gRPC max receive size; -1: no limit).
       * Absent, the TM assumes gRPC's default 4 MiB. The TM refuses, and rolls
       * back, an Execute/ExecuteBatch/Run whose answer would be bigger
       * (INVALID_ARGUMENT) instead of committing and sending what the client
       * cannot receive.
       * 
       * Errors: every error the TM itself sends is a gRPC status with a
       * google.rpc.Status in the `grpc-status-details-bin` trailer (on Session:
       * SessionResponse.error), holding one google.rpc.ErrorInfo with domain
       * "arbiter.dev" and reason = one of these codes (a public contract: a code
       * never moves to another status):
       * TM_INVALID_ARGUMENT   INVALID_ARGUMENT     fix the request
       * TM_TX_NOT_FOUND       NOT_FOUND            unknown transaction: presumed aborted
       * TM_ILLEGAL_STATE      FAILED_PRECONDITION  the transaction's state does not allow the call
       * TM_WRONG_NODE         FAILED_PRECONDITION  another node's transaction: send it to metadata address
       * TM_TX_ABORTED         ABORTED              rolled back: retry the whole transaction if metadata retryable = "true"
       * TM_RM_UNAVAILABLE     UNAVAILABLE          back off, retry the same call
       * TM_OVERLOADED         RESOURCE_EXHAUSTED   back off, retry
       * TM_OUTCOME_UNKNOWN    DEADLINE_EXCEEDED    ask GetTransaction; never retry blindly
       * TM_HEURISTIC_MIXED    INTERNAL             an operator resolves it (Admin service)
       * TM_UNAUTHENTICATED    UNAUTHENTICATED      send a valid token
       * TM_PERMISSION_DENIED  PERMISSION_DENIED    use a token with the needed role
       * TM_INTERNAL           INTERNAL             report it
       * ErrorInfo.metadata may carry: gtrid; retryable ("true"/"false": overrides
       * the code's default, e.g. a deadlock victim is worth a retry, a CHECK
       * violation is not); serverCode (the database's SQLSTATE or MySQL errno of
       * a failed statement or vote, e.g. "23514", "4025", "40P01", "1213");
       * resource; beginRefused = "true" (see ExecuteRequest.begin); sessionClosing
       * = "true" (Session only: the request never ran); node and address
       * (TM_WRONG_NODE). A status WITHOUT this ErrorInfo did not come from the TM
       * (a client-side deadline, a broken connection, a proxy, a message over a
       * size limit): map it by its gRPC code, and treat it as "the TM may or may
       * not have acted" — for a Commit or Run that means an unknown outcome (see
       * CommitRequest), never a failure.
       */
      TransactionManager: SubtypeConstructor<typeof grpc.Client, _arbiter_v1_TransactionManagerClient> & { service: _arbiter_v1_TransactionManagerDefinition }
      TransactionState: EnumTypeDefinition
      Value: MessageTypeDefinition<_arbiter_v1_Value, _arbiter_v1_Value__Output>
      WaitFor: EnumTypeDefinition
      Xid: MessageTypeDefinition<_arbiter_v1_Xid, _arbiter_v1_Xid__Output>
    }
  }
  google: {
    protobuf: {
      Any: MessageTypeDefinition<_google_protobuf_Any, _google_protobuf_Any__Output>
    }
    rpc: {
      Status: MessageTypeDefinition<_google_rpc_Status, _google_rpc_Status__Output>
    }
  }
}

