// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from '../../arbiter/v1/Statement.js';
import type { WaitFor as _arbiter_v1_WaitFor, WaitFor__Output as _arbiter_v1_WaitFor__Output } from '../../arbiter/v1/WaitFor.js';

export interface RunRequest {
  'timeoutMs'?: (number);
  'labels'?: ({[key: string]: string});
  'statements'?: (_arbiter_v1_Statement)[];
  'waitFor'?: (_arbiter_v1_WaitFor);
  /**
   * The transaction's name, chosen so that a lost answer can be asked about
   * (GetTransaction) and the same Run sent again without running twice: a
   * Run naming a transaction the TM already ran with the same statements
   * answers that run's outcome (its results too, unless they were over 1 MiB:
   * results_dropped), whatever the TM's config accepts now. A name used for
   * anything else (a Run with other statements, Execute, Commit) is refused
   * with FAILED_PRECONDITION (TM_ILLEGAL_STATE), nothing run, while the TM
   * remembers how it was used (transactions.retentionMs); one known only from
   * its logged decision (after a restart, a takeover, or once forgotten) is
   * answered with that outcome, results dropped. It is
   * either a transaction begun with Begin and not used since (a client that
   * does not know the TM yet: Begin, then Run), or one the client named
   * itself as ExecuteRequest.begin describes (then tm_instance is needed and
   * the same refusals apply: ABORTED with beginRefused, nothing run). Empty:
   * the TM names it, and a lost answer cannot be told from a lost request.
   * While the Run runs, its transaction is the Run's: Execute, ExecuteBatch
   * and Enlist in it are refused (FAILED_PRECONDITION, nothing done), and a
   * Commit of it waits for the Run and answers with the Run's outcome.
   */
  'gtrid'?: (string);
  /**
   * With a client-named gtrid: the BeginResponse.tm_instance it was named under.
   */
  'tmInstance'?: (string);
}

export interface RunRequest__Output {
  'timeoutMs': (number);
  'labels': ({[key: string]: string});
  'statements': (_arbiter_v1_Statement__Output)[];
  'waitFor': (_arbiter_v1_WaitFor__Output);
  /**
   * The transaction's name, chosen so that a lost answer can be asked about
   * (GetTransaction) and the same Run sent again without running twice: a
   * Run naming a transaction the TM already ran with the same statements
   * answers that run's outcome (its results too, unless they were over 1 MiB:
   * results_dropped), whatever the TM's config accepts now. A name used for
   * anything else (a Run with other statements, Execute, Commit) is refused
   * with FAILED_PRECONDITION (TM_ILLEGAL_STATE), nothing run, while the TM
   * remembers how it was used (transactions.retentionMs); one known only from
   * its logged decision (after a restart, a takeover, or once forgotten) is
   * answered with that outcome, results dropped. It is
   * either a transaction begun with Begin and not used since (a client that
   * does not know the TM yet: Begin, then Run), or one the client named
   * itself as ExecuteRequest.begin describes (then tm_instance is needed and
   * the same refusals apply: ABORTED with beginRefused, nothing run). Empty:
   * the TM names it, and a lost answer cannot be told from a lost request.
   * While the Run runs, its transaction is the Run's: Execute, ExecuteBatch
   * and Enlist in it are refused (FAILED_PRECONDITION, nothing done), and a
   * Commit of it waits for the Run and answers with the Run's outcome.
   */
  'gtrid': (string);
  /**
   * With a client-named gtrid: the BeginResponse.tm_instance it was named under.
   */
  'tmInstance': (string);
}
