// Original file: proto/arbiter/v1/transaction_manager.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from '../../arbiter/v1/BeginRequest.js';
import type { BeginResponse as _arbiter_v1_BeginResponse, BeginResponse__Output as _arbiter_v1_BeginResponse__Output } from '../../arbiter/v1/BeginResponse.js';
import type { CommitRequest as _arbiter_v1_CommitRequest, CommitRequest__Output as _arbiter_v1_CommitRequest__Output } from '../../arbiter/v1/CommitRequest.js';
import type { CommitResponse as _arbiter_v1_CommitResponse, CommitResponse__Output as _arbiter_v1_CommitResponse__Output } from '../../arbiter/v1/CommitResponse.js';
import type { CompleteLocalBranchesRequest as _arbiter_v1_CompleteLocalBranchesRequest, CompleteLocalBranchesRequest__Output as _arbiter_v1_CompleteLocalBranchesRequest__Output } from '../../arbiter/v1/CompleteLocalBranchesRequest.js';
import type { CompleteLocalBranchesResponse as _arbiter_v1_CompleteLocalBranchesResponse, CompleteLocalBranchesResponse__Output as _arbiter_v1_CompleteLocalBranchesResponse__Output } from '../../arbiter/v1/CompleteLocalBranchesResponse.js';
import type { EnlistRequest as _arbiter_v1_EnlistRequest, EnlistRequest__Output as _arbiter_v1_EnlistRequest__Output } from '../../arbiter/v1/EnlistRequest.js';
import type { EnlistResponse as _arbiter_v1_EnlistResponse, EnlistResponse__Output as _arbiter_v1_EnlistResponse__Output } from '../../arbiter/v1/EnlistResponse.js';
import type { ExecuteBatchRequest as _arbiter_v1_ExecuteBatchRequest, ExecuteBatchRequest__Output as _arbiter_v1_ExecuteBatchRequest__Output } from '../../arbiter/v1/ExecuteBatchRequest.js';
import type { ExecuteBatchResponse as _arbiter_v1_ExecuteBatchResponse, ExecuteBatchResponse__Output as _arbiter_v1_ExecuteBatchResponse__Output } from '../../arbiter/v1/ExecuteBatchResponse.js';
import type { ExecuteRequest as _arbiter_v1_ExecuteRequest, ExecuteRequest__Output as _arbiter_v1_ExecuteRequest__Output } from '../../arbiter/v1/ExecuteRequest.js';
import type { ExecuteResponse as _arbiter_v1_ExecuteResponse, ExecuteResponse__Output as _arbiter_v1_ExecuteResponse__Output } from '../../arbiter/v1/ExecuteResponse.js';
import type { GetTransactionRequest as _arbiter_v1_GetTransactionRequest, GetTransactionRequest__Output as _arbiter_v1_GetTransactionRequest__Output } from '../../arbiter/v1/GetTransactionRequest.js';
import type { ListMembersRequest as _arbiter_v1_ListMembersRequest, ListMembersRequest__Output as _arbiter_v1_ListMembersRequest__Output } from '../../arbiter/v1/ListMembersRequest.js';
import type { ListMembersResponse as _arbiter_v1_ListMembersResponse, ListMembersResponse__Output as _arbiter_v1_ListMembersResponse__Output } from '../../arbiter/v1/ListMembersResponse.js';
import type { RollbackRequest as _arbiter_v1_RollbackRequest, RollbackRequest__Output as _arbiter_v1_RollbackRequest__Output } from '../../arbiter/v1/RollbackRequest.js';
import type { RollbackResponse as _arbiter_v1_RollbackResponse, RollbackResponse__Output as _arbiter_v1_RollbackResponse__Output } from '../../arbiter/v1/RollbackResponse.js';
import type { RunRequest as _arbiter_v1_RunRequest, RunRequest__Output as _arbiter_v1_RunRequest__Output } from '../../arbiter/v1/RunRequest.js';
import type { RunResponse as _arbiter_v1_RunResponse, RunResponse__Output as _arbiter_v1_RunResponse__Output } from '../../arbiter/v1/RunResponse.js';
import type { SessionRequest as _arbiter_v1_SessionRequest, SessionRequest__Output as _arbiter_v1_SessionRequest__Output } from '../../arbiter/v1/SessionRequest.js';
import type { SessionRequestBatch as _arbiter_v1_SessionRequestBatch, SessionRequestBatch__Output as _arbiter_v1_SessionRequestBatch__Output } from '../../arbiter/v1/SessionRequestBatch.js';
import type { SessionResponse as _arbiter_v1_SessionResponse, SessionResponse__Output as _arbiter_v1_SessionResponse__Output } from '../../arbiter/v1/SessionResponse.js';
import type { SessionResponseBatch as _arbiter_v1_SessionResponseBatch, SessionResponseBatch__Output as _arbiter_v1_SessionResponseBatch__Output } from '../../arbiter/v1/SessionResponseBatch.js';
import type { Transaction as _arbiter_v1_Transaction, Transaction__Output as _arbiter_v1_Transaction__Output } from '../../arbiter/v1/Transaction.js';

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
export interface TransactionManagerClient extends grpc.Client {
  /**
   * Session with the requests and answers carried in batches: the requests a
   * client makes in one turn of its event loop travel as one message, and the
   * answers the TM has ready in one turn of its own come back as one. Each
   * request in a batch runs, and is answered, exactly as on Session. Why it
   * exists: under load most of a small call's CPU is the per-message work
   * (framing, a write system call, a wake-up on the other side), so k requests
   * in one message cost about what one did. The TM sends the response header
   * `arbiter-session: batched` at once when the stream opens; the TypeScript
   * client sends nothing until it has seen that header, and falls back to
   * Session when a TM without this method answers UNIMPLEMENTED.
   */
  BatchedSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionResponseBatch__Output>;
  BatchedSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionResponseBatch__Output>;
  /**
   * Session with the requests and answers carried in batches: the requests a
   * client makes in one turn of its event loop travel as one message, and the
   * answers the TM has ready in one turn of its own come back as one. Each
   * request in a batch runs, and is answered, exactly as on Session. Why it
   * exists: under load most of a small call's CPU is the per-message work
   * (framing, a write system call, a wake-up on the other side), so k requests
   * in one message cost about what one did. The TM sends the response header
   * `arbiter-session: batched` at once when the stream opens; the TypeScript
   * client sends nothing until it has seen that header, and falls back to
   * Session when a TM without this method answers UNIMPLEMENTED.
   */
  batchedSession(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionResponseBatch__Output>;
  batchedSession(options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionResponseBatch__Output>;
  
  /**
   * Starts a transaction with a deadline.
   */
  Begin(argument: _arbiter_v1_BeginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _arbiter_v1_BeginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _arbiter_v1_BeginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  Begin(argument: _arbiter_v1_BeginRequest, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Starts a transaction with a deadline.
   */
  begin(argument: _arbiter_v1_BeginRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _arbiter_v1_BeginRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _arbiter_v1_BeginRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  begin(argument: _arbiter_v1_BeginRequest, callback: grpc.requestCallback<_arbiter_v1_BeginResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Two-phase commit of every branch (idempotent: a repeat gets the same answer).
   */
  Commit(argument: _arbiter_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _arbiter_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _arbiter_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  Commit(argument: _arbiter_v1_CommitRequest, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Two-phase commit of every branch (idempotent: a repeat gets the same answer).
   */
  commit(argument: _arbiter_v1_CommitRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _arbiter_v1_CommitRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _arbiter_v1_CommitRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  commit(argument: _arbiter_v1_CommitRequest, callback: grpc.requestCallback<_arbiter_v1_CommitResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Tells the TM which local branches the application committed itself. Only
   * once the transaction is COMMITTING or COMMITTED (after Commit's answer);
   * before that FAILED_PRECONDITION (ABORTED once rolled back). It only
   * spares the TM its own commit of them after
   * transactions.localBranchGraceMs: best effort, nobody waits for it, and a
   * lost report costs nothing but that redundant commit.
   */
  CompleteLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  CompleteLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  CompleteLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  CompleteLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Tells the TM which local branches the application committed itself. Only
   * once the transaction is COMMITTING or COMMITTED (after Commit's answer);
   * before that FAILED_PRECONDITION (ABORTED once rolled back). It only
   * spares the TM its own commit of them after
   * transactions.localBranchGraceMs: best effort, nobody waits for it, and a
   * lost report costs nothing but that redundant commit.
   */
  completeLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  completeLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  completeLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  completeLocalBranches(argument: _arbiter_v1_CompleteLocalBranchesRequest, callback: grpc.requestCallback<_arbiter_v1_CompleteLocalBranchesResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Registers a local branch: the application runs the statements on its own
   * connection under the returned XID and prepares it before Commit. (A client
   * may instead name the branch itself and announce it in Commit's local_votes.)
   * 
   * A local branch, step by step (client/commit.ts, examples/python/):
   * 1. Enlist (or name the branch, see LocalVote.resource) → the XID. Spell
   * it on the server exactly as Xid (transaction.proto) says.
   * 2. Start it on the application's own connection: PostgreSQL `BEGIN`;
   * MySQL/MariaDB `XA START <xid>`. Run the application's statements.
   * The connection must reach the same database as the TM's resource,
   * as the same role on PostgreSQL (or the TM's role is a superuser):
   * only then can the TM finish the branch when the application cannot.
   * 3. At commit, prepare every local branch: PostgreSQL `PREPARE
   * TRANSACTION '<gid>'` (a literal; it counts only when the command tag
   * is PREPARE: in an aborted block PostgreSQL answers ROLLBACK without an
   * error); MySQL/MariaDB `XA END <xid>` then `XA PREPARE <xid>`. A branch
   * that cannot prepare: roll everything back (Rollback, and the branches
   * on their connections), do not call Commit.
   * 4. Commit with one LocalVote per local branch (CommitRequest).
   * 5. Committed (CommitResponse, or COMMITTING/COMMITTED from
   * GetTransaction): commit every prepared local branch on the
   * connection that prepared it (`COMMIT PREPARED '<gid>'`, `XA COMMIT
   * <xid>`: MariaDB keeps a prepared branch attached to its session, and
   * answers XAER_NOTA (1397) to any other session while that one lives),
   * then report them (CompleteLocalBranches, or CommitRequest
   * .completed_local of a later Commit). Rolled back: roll them back on
   * their connections (`ROLLBACK PREPARED '<gid>'`, `XA ROLLBACK <xid>`;
   * still open: `ROLLBACK`, `XA END` + `XA ROLLBACK`).
   * 6. A branch the application cannot finish (outcome unknown, connection
   * trouble, heuristic): close its connection — never reset it or change
   * its user (MariaDB then reports a later XA COMMIT as done while the
   * branch stays prepared), never hand it back to a pool. The TM finishes
   * a branch it knows was prepared (its vote arrived) after
   * transactions.localBranchGraceMs; recovery rolls back one that was
   * prepared but never voted, once its transaction has ended (deadline).
   */
  Enlist(argument: _arbiter_v1_EnlistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  Enlist(argument: _arbiter_v1_EnlistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  Enlist(argument: _arbiter_v1_EnlistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  Enlist(argument: _arbiter_v1_EnlistRequest, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Registers a local branch: the application runs the statements on its own
   * connection under the returned XID and prepares it before Commit. (A client
   * may instead name the branch itself and announce it in Commit's local_votes.)
   * 
   * A local branch, step by step (client/commit.ts, examples/python/):
   * 1. Enlist (or name the branch, see LocalVote.resource) → the XID. Spell
   * it on the server exactly as Xid (transaction.proto) says.
   * 2. Start it on the application's own connection: PostgreSQL `BEGIN`;
   * MySQL/MariaDB `XA START <xid>`. Run the application's statements.
   * The connection must reach the same database as the TM's resource,
   * as the same role on PostgreSQL (or the TM's role is a superuser):
   * only then can the TM finish the branch when the application cannot.
   * 3. At commit, prepare every local branch: PostgreSQL `PREPARE
   * TRANSACTION '<gid>'` (a literal; it counts only when the command tag
   * is PREPARE: in an aborted block PostgreSQL answers ROLLBACK without an
   * error); MySQL/MariaDB `XA END <xid>` then `XA PREPARE <xid>`. A branch
   * that cannot prepare: roll everything back (Rollback, and the branches
   * on their connections), do not call Commit.
   * 4. Commit with one LocalVote per local branch (CommitRequest).
   * 5. Committed (CommitResponse, or COMMITTING/COMMITTED from
   * GetTransaction): commit every prepared local branch on the
   * connection that prepared it (`COMMIT PREPARED '<gid>'`, `XA COMMIT
   * <xid>`: MariaDB keeps a prepared branch attached to its session, and
   * answers XAER_NOTA (1397) to any other session while that one lives),
   * then report them (CompleteLocalBranches, or CommitRequest
   * .completed_local of a later Commit). Rolled back: roll them back on
   * their connections (`ROLLBACK PREPARED '<gid>'`, `XA ROLLBACK <xid>`;
   * still open: `ROLLBACK`, `XA END` + `XA ROLLBACK`).
   * 6. A branch the application cannot finish (outcome unknown, connection
   * trouble, heuristic): close its connection — never reset it or change
   * its user (MariaDB then reports a later XA COMMIT as done while the
   * branch stays prepared), never hand it back to a pool. The TM finishes
   * a branch it knows was prepared (its vote arrived) after
   * transactions.localBranchGraceMs; recovery rolls back one that was
   * prepared but never voted, once its transaction has ended (deadline).
   */
  enlist(argument: _arbiter_v1_EnlistRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  enlist(argument: _arbiter_v1_EnlistRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  enlist(argument: _arbiter_v1_EnlistRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  enlist(argument: _arbiter_v1_EnlistRequest, callback: grpc.requestCallback<_arbiter_v1_EnlistResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs one statement on a resource, inside the transaction's branch there.
   */
  Execute(argument: _arbiter_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _arbiter_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _arbiter_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  Execute(argument: _arbiter_v1_ExecuteRequest, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Runs one statement on a resource, inside the transaction's branch there.
   */
  execute(argument: _arbiter_v1_ExecuteRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _arbiter_v1_ExecuteRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _arbiter_v1_ExecuteRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  execute(argument: _arbiter_v1_ExecuteRequest, callback: grpc.requestCallback<_arbiter_v1_ExecuteResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Runs several statements in order (each on its resource, as Execute
   * would) in one round trip. A statement that fails or is refused stops the
   * batch and rolls the whole transaction back; the error names it. A
   * Commit that begins while a batch runs rolls the transaction back
   * (ABORTED, retryable): it never commits part of a batch.
   */
  ExecuteBatch(argument: _arbiter_v1_ExecuteBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _arbiter_v1_ExecuteBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _arbiter_v1_ExecuteBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  ExecuteBatch(argument: _arbiter_v1_ExecuteBatchRequest, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Runs several statements in order (each on its resource, as Execute
   * would) in one round trip. A statement that fails or is refused stops the
   * batch and rolls the whole transaction back; the error names it. A
   * Commit that begins while a batch runs rolls the transaction back
   * (ABORTED, retryable): it never commits part of a batch.
   */
  executeBatch(argument: _arbiter_v1_ExecuteBatchRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _arbiter_v1_ExecuteBatchRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _arbiter_v1_ExecuteBatchRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  executeBatch(argument: _arbiter_v1_ExecuteBatchRequest, callback: grpc.requestCallback<_arbiter_v1_ExecuteBatchResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * What the TM knows of a transaction. After a lost Commit answer: ACTIVE
   * or PREPARING → send the same Commit again; COMMITTING or COMMITTED →
   * committed (commit the local branches); ROLLING_BACK or ROLLED_BACK →
   * rolled back; HEURISTIC → mixed. NOT_FOUND after a lost answer does NOT
   * mean rolled back: a transaction with one writing branch commits in one
   * phase and leaves no log record, so a TM that restarted cannot tell.
   */
  GetTransaction(argument: _arbiter_v1_GetTransactionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_GetTransactionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_GetTransactionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  GetTransaction(argument: _arbiter_v1_GetTransactionRequest, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  /**
   * What the TM knows of a transaction. After a lost Commit answer: ACTIVE
   * or PREPARING → send the same Commit again; COMMITTING or COMMITTED →
   * committed (commit the local branches); ROLLING_BACK or ROLLED_BACK →
   * rolled back; HEURISTIC → mixed. NOT_FOUND after a lost answer does NOT
   * mean rolled back: a transaction with one writing branch commits in one
   * phase and leaves no log record, so a TM that restarted cannot tell.
   */
  getTransaction(argument: _arbiter_v1_GetTransactionRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_GetTransactionRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_GetTransactionRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  getTransaction(argument: _arbiter_v1_GetTransactionRequest, callback: grpc.requestCallback<_arbiter_v1_Transaction__Output>): grpc.ClientUnaryCall;
  
  /**
   * The nodes of the cluster this node belongs to (log.store: postgres), each
   * with the address clients reach it on; a node on its own (the file store)
   * answers with itself alone. A transaction belongs to the node its gtrid
   * names ("<node_id>:<ULID>"): send every request of a transaction to that
   * node. A request sent to another node is answered FAILED_PRECONDITION with
   * ErrorInfo reason TM_WRONG_NODE and metadata node and address: nothing
   * ran; send it there. GetTransaction, and a repeated Commit or Run, are
   * answered by any node for a transaction whose node has died and was taken
   * over (from the shared store), and NOT_FOUND only when no decision was
   * ever logged for it.
   */
  ListMembers(argument: _arbiter_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _arbiter_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _arbiter_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  ListMembers(argument: _arbiter_v1_ListMembersRequest, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  /**
   * The nodes of the cluster this node belongs to (log.store: postgres), each
   * with the address clients reach it on; a node on its own (the file store)
   * answers with itself alone. A transaction belongs to the node its gtrid
   * names ("<node_id>:<ULID>"): send every request of a transaction to that
   * node. A request sent to another node is answered FAILED_PRECONDITION with
   * ErrorInfo reason TM_WRONG_NODE and metadata node and address: nothing
   * ran; send it there. GetTransaction, and a repeated Commit or Run, are
   * answered by any node for a transaction whose node has died and was taken
   * over (from the shared store), and NOT_FOUND only when no decision was
   * ever logged for it.
   */
  listMembers(argument: _arbiter_v1_ListMembersRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _arbiter_v1_ListMembersRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _arbiter_v1_ListMembersRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  listMembers(argument: _arbiter_v1_ListMembersRequest, callback: grpc.requestCallback<_arbiter_v1_ListMembersResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Rolls an ACTIVE transaction back (managed branches at once; the
   * application rolls back its own local branches). On a transaction
   * already rolled back it answers its state.
   */
  Rollback(argument: _arbiter_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _arbiter_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _arbiter_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  Rollback(argument: _arbiter_v1_RollbackRequest, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Rolls an ACTIVE transaction back (managed branches at once; the
   * application rolls back its own local branches). On a transaction
   * already rolled back it answers its state.
   */
  rollback(argument: _arbiter_v1_RollbackRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _arbiter_v1_RollbackRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _arbiter_v1_RollbackRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  rollback(argument: _arbiter_v1_RollbackRequest, callback: grpc.requestCallback<_arbiter_v1_RollbackResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * Begin, statements on several resources, and commit, in one round trip.
   * Idempotent when the request names its transaction (RunRequest.gtrid): a
   * repeat gets the first outcome and never runs the statements twice.
   */
  Run(argument: _arbiter_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _arbiter_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _arbiter_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  Run(argument: _arbiter_v1_RunRequest, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Begin, statements on several resources, and commit, in one round trip.
   * Idempotent when the request names its transaction (RunRequest.gtrid): a
   * repeat gets the first outcome and never runs the statements twice.
   */
  run(argument: _arbiter_v1_RunRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _arbiter_v1_RunRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _arbiter_v1_RunRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  run(argument: _arbiter_v1_RunRequest, callback: grpc.requestCallback<_arbiter_v1_RunResponse__Output>): grpc.ClientUnaryCall;
  
  /**
   * The calls above, multiplexed on one long-lived stream: each request
   * carries an id, its answer (in any order) the same id. Same semantics,
   * validation and errors as the unary calls; an error answers one request
   * and leaves the stream open. Why it exists: on an open stream a request
   * costs grpc-js about a sixth of the CPU of a unary call (no HTTP/2 stream,
   * headers, trailers or deadline per call), and Arbiter's hot path is a few
   * small calls per transaction. The TypeScript client uses it by default.
   * Deadlines are the client's: the server works on as for a cancelled unary
   * call. A transaction is tied to the stream its requests came on: when a
   * client's last stream on its connection ends without the TM ending it (the
   * client died, or keepalive found it silent), its transactions still active
   * transactions.localBranchGraceMs later (not taken up on another stream) are
   * rolled back, and so are the local branches it prepared for them. The TM
   * ends a stream with status OK only after answering every request it took
   * on it (a graceful stop): a request still unanswered then never ran. A
   * request refused with metadata sessionClosing = "true" never ran either:
   * send it again on a new stream.
   */
  Session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequest, _arbiter_v1_SessionResponse__Output>;
  Session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequest, _arbiter_v1_SessionResponse__Output>;
  /**
   * The calls above, multiplexed on one long-lived stream: each request
   * carries an id, its answer (in any order) the same id. Same semantics,
   * validation and errors as the unary calls; an error answers one request
   * and leaves the stream open. Why it exists: on an open stream a request
   * costs grpc-js about a sixth of the CPU of a unary call (no HTTP/2 stream,
   * headers, trailers or deadline per call), and Arbiter's hot path is a few
   * small calls per transaction. The TypeScript client uses it by default.
   * Deadlines are the client's: the server works on as for a cancelled unary
   * call. A transaction is tied to the stream its requests came on: when a
   * client's last stream on its connection ends without the TM ending it (the
   * client died, or keepalive found it silent), its transactions still active
   * transactions.localBranchGraceMs later (not taken up on another stream) are
   * rolled back, and so are the local branches it prepared for them. The TM
   * ends a stream with status OK only after answering every request it took
   * on it (a graceful stop): a request still unanswered then never ran. A
   * request refused with metadata sessionClosing = "true" never ran either:
   * send it again on a new stream.
   */
  session(metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequest, _arbiter_v1_SessionResponse__Output>;
  session(options?: grpc.CallOptions): grpc.ClientDuplexStream<_arbiter_v1_SessionRequest, _arbiter_v1_SessionResponse__Output>;
  
}

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
export interface TransactionManagerHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Session with the requests and answers carried in batches: the requests a
   * client makes in one turn of its event loop travel as one message, and the
   * answers the TM has ready in one turn of its own come back as one. Each
   * request in a batch runs, and is answered, exactly as on Session. Why it
   * exists: under load most of a small call's CPU is the per-message work
   * (framing, a write system call, a wake-up on the other side), so k requests
   * in one message cost about what one did. The TM sends the response header
   * `arbiter-session: batched` at once when the stream opens; the TypeScript
   * client sends nothing until it has seen that header, and falls back to
   * Session when a TM without this method answers UNIMPLEMENTED.
   */
  BatchedSession: grpc.handleBidiStreamingCall<_arbiter_v1_SessionRequestBatch__Output, _arbiter_v1_SessionResponseBatch>;
  
  /**
   * Starts a transaction with a deadline.
   */
  Begin: grpc.handleUnaryCall<_arbiter_v1_BeginRequest__Output, _arbiter_v1_BeginResponse>;
  
  /**
   * Two-phase commit of every branch (idempotent: a repeat gets the same answer).
   */
  Commit: grpc.handleUnaryCall<_arbiter_v1_CommitRequest__Output, _arbiter_v1_CommitResponse>;
  
  /**
   * Tells the TM which local branches the application committed itself. Only
   * once the transaction is COMMITTING or COMMITTED (after Commit's answer);
   * before that FAILED_PRECONDITION (ABORTED once rolled back). It only
   * spares the TM its own commit of them after
   * transactions.localBranchGraceMs: best effort, nobody waits for it, and a
   * lost report costs nothing but that redundant commit.
   */
  CompleteLocalBranches: grpc.handleUnaryCall<_arbiter_v1_CompleteLocalBranchesRequest__Output, _arbiter_v1_CompleteLocalBranchesResponse>;
  
  /**
   * Registers a local branch: the application runs the statements on its own
   * connection under the returned XID and prepares it before Commit. (A client
   * may instead name the branch itself and announce it in Commit's local_votes.)
   * 
   * A local branch, step by step (client/commit.ts, examples/python/):
   * 1. Enlist (or name the branch, see LocalVote.resource) → the XID. Spell
   * it on the server exactly as Xid (transaction.proto) says.
   * 2. Start it on the application's own connection: PostgreSQL `BEGIN`;
   * MySQL/MariaDB `XA START <xid>`. Run the application's statements.
   * The connection must reach the same database as the TM's resource,
   * as the same role on PostgreSQL (or the TM's role is a superuser):
   * only then can the TM finish the branch when the application cannot.
   * 3. At commit, prepare every local branch: PostgreSQL `PREPARE
   * TRANSACTION '<gid>'` (a literal; it counts only when the command tag
   * is PREPARE: in an aborted block PostgreSQL answers ROLLBACK without an
   * error); MySQL/MariaDB `XA END <xid>` then `XA PREPARE <xid>`. A branch
   * that cannot prepare: roll everything back (Rollback, and the branches
   * on their connections), do not call Commit.
   * 4. Commit with one LocalVote per local branch (CommitRequest).
   * 5. Committed (CommitResponse, or COMMITTING/COMMITTED from
   * GetTransaction): commit every prepared local branch on the
   * connection that prepared it (`COMMIT PREPARED '<gid>'`, `XA COMMIT
   * <xid>`: MariaDB keeps a prepared branch attached to its session, and
   * answers XAER_NOTA (1397) to any other session while that one lives),
   * then report them (CompleteLocalBranches, or CommitRequest
   * .completed_local of a later Commit). Rolled back: roll them back on
   * their connections (`ROLLBACK PREPARED '<gid>'`, `XA ROLLBACK <xid>`;
   * still open: `ROLLBACK`, `XA END` + `XA ROLLBACK`).
   * 6. A branch the application cannot finish (outcome unknown, connection
   * trouble, heuristic): close its connection — never reset it or change
   * its user (MariaDB then reports a later XA COMMIT as done while the
   * branch stays prepared), never hand it back to a pool. The TM finishes
   * a branch it knows was prepared (its vote arrived) after
   * transactions.localBranchGraceMs; recovery rolls back one that was
   * prepared but never voted, once its transaction has ended (deadline).
   */
  Enlist: grpc.handleUnaryCall<_arbiter_v1_EnlistRequest__Output, _arbiter_v1_EnlistResponse>;
  
  /**
   * Runs one statement on a resource, inside the transaction's branch there.
   */
  Execute: grpc.handleUnaryCall<_arbiter_v1_ExecuteRequest__Output, _arbiter_v1_ExecuteResponse>;
  
  /**
   * Runs several statements in order (each on its resource, as Execute
   * would) in one round trip. A statement that fails or is refused stops the
   * batch and rolls the whole transaction back; the error names it. A
   * Commit that begins while a batch runs rolls the transaction back
   * (ABORTED, retryable): it never commits part of a batch.
   */
  ExecuteBatch: grpc.handleUnaryCall<_arbiter_v1_ExecuteBatchRequest__Output, _arbiter_v1_ExecuteBatchResponse>;
  
  /**
   * What the TM knows of a transaction. After a lost Commit answer: ACTIVE
   * or PREPARING → send the same Commit again; COMMITTING or COMMITTED →
   * committed (commit the local branches); ROLLING_BACK or ROLLED_BACK →
   * rolled back; HEURISTIC → mixed. NOT_FOUND after a lost answer does NOT
   * mean rolled back: a transaction with one writing branch commits in one
   * phase and leaves no log record, so a TM that restarted cannot tell.
   */
  GetTransaction: grpc.handleUnaryCall<_arbiter_v1_GetTransactionRequest__Output, _arbiter_v1_Transaction>;
  
  /**
   * The nodes of the cluster this node belongs to (log.store: postgres), each
   * with the address clients reach it on; a node on its own (the file store)
   * answers with itself alone. A transaction belongs to the node its gtrid
   * names ("<node_id>:<ULID>"): send every request of a transaction to that
   * node. A request sent to another node is answered FAILED_PRECONDITION with
   * ErrorInfo reason TM_WRONG_NODE and metadata node and address: nothing
   * ran; send it there. GetTransaction, and a repeated Commit or Run, are
   * answered by any node for a transaction whose node has died and was taken
   * over (from the shared store), and NOT_FOUND only when no decision was
   * ever logged for it.
   */
  ListMembers: grpc.handleUnaryCall<_arbiter_v1_ListMembersRequest__Output, _arbiter_v1_ListMembersResponse>;
  
  /**
   * Rolls an ACTIVE transaction back (managed branches at once; the
   * application rolls back its own local branches). On a transaction
   * already rolled back it answers its state.
   */
  Rollback: grpc.handleUnaryCall<_arbiter_v1_RollbackRequest__Output, _arbiter_v1_RollbackResponse>;
  
  /**
   * Begin, statements on several resources, and commit, in one round trip.
   * Idempotent when the request names its transaction (RunRequest.gtrid): a
   * repeat gets the first outcome and never runs the statements twice.
   */
  Run: grpc.handleUnaryCall<_arbiter_v1_RunRequest__Output, _arbiter_v1_RunResponse>;
  
  /**
   * The calls above, multiplexed on one long-lived stream: each request
   * carries an id, its answer (in any order) the same id. Same semantics,
   * validation and errors as the unary calls; an error answers one request
   * and leaves the stream open. Why it exists: on an open stream a request
   * costs grpc-js about a sixth of the CPU of a unary call (no HTTP/2 stream,
   * headers, trailers or deadline per call), and Arbiter's hot path is a few
   * small calls per transaction. The TypeScript client uses it by default.
   * Deadlines are the client's: the server works on as for a cancelled unary
   * call. A transaction is tied to the stream its requests came on: when a
   * client's last stream on its connection ends without the TM ending it (the
   * client died, or keepalive found it silent), its transactions still active
   * transactions.localBranchGraceMs later (not taken up on another stream) are
   * rolled back, and so are the local branches it prepared for them. The TM
   * ends a stream with status OK only after answering every request it took
   * on it (a graceful stop): a request still unanswered then never ran. A
   * request refused with metadata sessionClosing = "true" never ran either:
   * send it again on a new stream.
   */
  Session: grpc.handleBidiStreamingCall<_arbiter_v1_SessionRequest__Output, _arbiter_v1_SessionResponse>;
  
}

export interface TransactionManagerDefinition extends grpc.ServiceDefinition {
  BatchedSession: MethodDefinition<_arbiter_v1_SessionRequestBatch, _arbiter_v1_SessionResponseBatch, _arbiter_v1_SessionRequestBatch__Output, _arbiter_v1_SessionResponseBatch__Output>
  Begin: MethodDefinition<_arbiter_v1_BeginRequest, _arbiter_v1_BeginResponse, _arbiter_v1_BeginRequest__Output, _arbiter_v1_BeginResponse__Output>
  Commit: MethodDefinition<_arbiter_v1_CommitRequest, _arbiter_v1_CommitResponse, _arbiter_v1_CommitRequest__Output, _arbiter_v1_CommitResponse__Output>
  CompleteLocalBranches: MethodDefinition<_arbiter_v1_CompleteLocalBranchesRequest, _arbiter_v1_CompleteLocalBranchesResponse, _arbiter_v1_CompleteLocalBranchesRequest__Output, _arbiter_v1_CompleteLocalBranchesResponse__Output>
  Enlist: MethodDefinition<_arbiter_v1_EnlistRequest, _arbiter_v1_EnlistResponse, _arbiter_v1_EnlistRequest__Output, _arbiter_v1_EnlistResponse__Output>
  Execute: MethodDefinition<_arbiter_v1_ExecuteRequest, _arbiter_v1_ExecuteResponse, _arbiter_v1_ExecuteRequest__Output, _arbiter_v1_ExecuteResponse__Output>
  ExecuteBatch: MethodDefinition<_arbiter_v1_ExecuteBatchRequest, _arbiter_v1_ExecuteBatchResponse, _arbiter_v1_ExecuteBatchRequest__Output, _arbiter_v1_ExecuteBatchResponse__Output>
  GetTransaction: MethodDefinition<_arbiter_v1_GetTransactionRequest, _arbiter_v1_Transaction, _arbiter_v1_GetTransactionRequest__Output, _arbiter_v1_Transaction__Output>
  ListMembers: MethodDefinition<_arbiter_v1_ListMembersRequest, _arbiter_v1_ListMembersResponse, _arbiter_v1_ListMembersRequest__Output, _arbiter_v1_ListMembersResponse__Output>
  Rollback: MethodDefinition<_arbiter_v1_RollbackRequest, _arbiter_v1_RollbackResponse, _arbiter_v1_RollbackRequest__Output, _arbiter_v1_RollbackResponse__Output>
  Run: MethodDefinition<_arbiter_v1_RunRequest, _arbiter_v1_RunResponse, _arbiter_v1_RunRequest__Output, _arbiter_v1_RunResponse__Output>
  Session: MethodDefinition<_arbiter_v1_SessionRequest, _arbiter_v1_SessionResponse, _arbiter_v1_SessionRequest__Output, _arbiter_v1_SessionResponse__Output>
}
