// Original file: proto/arbiter/v1/transaction_manager.proto

import type { LocalVote as _arbiter_v1_LocalVote, LocalVote__Output as _arbiter_v1_LocalVote__Output } from '../../arbiter/v1/LocalVote.js';
import type { WaitFor as _arbiter_v1_WaitFor, WaitFor__Output as _arbiter_v1_WaitFor__Output } from '../../arbiter/v1/WaitFor.js';
import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from '../../arbiter/v1/BeginRequest.js';
import type { CommittedLocalBranches as _arbiter_v1_CommittedLocalBranches, CommittedLocalBranches__Output as _arbiter_v1_CommittedLocalBranches__Output } from '../../arbiter/v1/CommittedLocalBranches.js';

/**
 * What an answer to Commit means (client/commit.ts):
 * - OK: committed (the decision is durable).
 * - ABORTED, or NOT_FOUND to a first Commit: rolled back; roll back the
 * local branches on their connections.
 * - INVALID_ARGUMENT, FAILED_PRECONDITION, UNAUTHENTICATED,
 * PERMISSION_DENIED (with ErrorInfo): refused before any decision, nothing
 * committed. Call Rollback (a bad field leaves the transaction ACTIVE) and
 * roll back the local branches yourself: the TM never knew those it
 * refused (e.g. a vote for an unknown resource).
 * - INTERNAL with TM_HEURISTIC_MIXED: mixed; leave the branches to operators
 * (close their connections). Also the answer when phase 2, waited for
 * (WAIT_FOR_APPLIED), ended mixed: a branch an operator rolled back, or a
 * Redis branch committed only in part. OK always means committed.
 * - anything else (DEADLINE_EXCEEDED, UNAVAILABLE, RESOURCE_EXHAUSTED,
 * TM_INTERNAL, or any status without ErrorInfo): the answer may be lost
 * and the TM may have decided. Never commit or roll back a local branch on
 * a guess: ask GetTransaction (see there), sending the same Commit again
 * while the transaction is ACTIVE or PREPARING, a few times with backoff.
 * Still unknown: close the connections of the prepared branches (the TM
 * finishes them) and report the outcome as unknown.
 */
export interface CommitRequest {
  'gtrid'?: (string);
  /**
   * One entry for every enlisted local branch, all prepared (or read-only).
   * A local branch missing here aborts the transaction. Send them only after
   * every branch's prepare succeeded: a vote says "prepared".
   */
  'localVotes'?: (_arbiter_v1_LocalVote)[];
  'waitFor'?: (_arbiter_v1_WaitFor);
  /**
   * As ExecuteRequest.begin: a transaction with only local branches begins
   * and commits in this one request.
   */
  'begin'?: (_arbiter_v1_BeginRequest | null);
  /**
   * Completion reports of other transactions (as CompleteLocalBranchesRequest
   * .batch), carried along to spare them a request of their own. The TM
   * applies them before this commit; one it cannot apply is skipped, never
   * failing this Commit (the TM finishes branches it does not hear about,
   * after its grace period: so does a TM older than this field, which
   * ignores it — upgrade TMs before clients).
   */
  'completedLocal'?: (_arbiter_v1_CommittedLocalBranches)[];
}

/**
 * What an answer to Commit means (client/commit.ts):
 * - OK: committed (the decision is durable).
 * - ABORTED, or NOT_FOUND to a first Commit: rolled back; roll back the
 * local branches on their connections.
 * - INVALID_ARGUMENT, FAILED_PRECONDITION, UNAUTHENTICATED,
 * PERMISSION_DENIED (with ErrorInfo): refused before any decision, nothing
 * committed. Call Rollback (a bad field leaves the transaction ACTIVE) and
 * roll back the local branches yourself: the TM never knew those it
 * refused (e.g. a vote for an unknown resource).
 * - INTERNAL with TM_HEURISTIC_MIXED: mixed; leave the branches to operators
 * (close their connections). Also the answer when phase 2, waited for
 * (WAIT_FOR_APPLIED), ended mixed: a branch an operator rolled back, or a
 * Redis branch committed only in part. OK always means committed.
 * - anything else (DEADLINE_EXCEEDED, UNAVAILABLE, RESOURCE_EXHAUSTED,
 * TM_INTERNAL, or any status without ErrorInfo): the answer may be lost
 * and the TM may have decided. Never commit or roll back a local branch on
 * a guess: ask GetTransaction (see there), sending the same Commit again
 * while the transaction is ACTIVE or PREPARING, a few times with backoff.
 * Still unknown: close the connections of the prepared branches (the TM
 * finishes them) and report the outcome as unknown.
 */
export interface CommitRequest__Output {
  'gtrid': (string);
  /**
   * One entry for every enlisted local branch, all prepared (or read-only).
   * A local branch missing here aborts the transaction. Send them only after
   * every branch's prepare succeeded: a vote says "prepared".
   */
  'localVotes': (_arbiter_v1_LocalVote__Output)[];
  'waitFor': (_arbiter_v1_WaitFor__Output);
  /**
   * As ExecuteRequest.begin: a transaction with only local branches begins
   * and commits in this one request.
   */
  'begin': (_arbiter_v1_BeginRequest__Output | null);
  /**
   * Completion reports of other transactions (as CompleteLocalBranchesRequest
   * .batch), carried along to spare them a request of their own. The TM
   * applies them before this commit; one it cannot apply is skipped, never
   * failing this Commit (the TM finishes branches it does not hear about,
   * after its grace period: so does a TM older than this field, which
   * ignores it — upgrade TMs before clients).
   */
  'completedLocal': (_arbiter_v1_CommittedLocalBranches__Output)[];
}
