// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Statement as _arbiter_v1_Statement, Statement__Output as _arbiter_v1_Statement__Output } from '../../arbiter/v1/Statement.js';
import type { BeginRequest as _arbiter_v1_BeginRequest, BeginRequest__Output as _arbiter_v1_BeginRequest__Output } from '../../arbiter/v1/BeginRequest.js';

export interface ExecuteRequest {
  'gtrid'?: (string);
  'statement'?: (_arbiter_v1_Statement | null);
  /**
   * Begin rides on this request (one round trip less per transaction): set
   * by a client that named the transaction itself, as "<this TM's node
   * id>:<ULID>" with the ULID's time taken from the TM's clock (learned from
   * a BeginResponse). If the TM does not know gtrid yet, the transaction
   * begins here with these options; its deadline counts from the ULID's
   * time. The TM refuses to begin (ABORTED, retryable, ErrorInfo metadata
   * beginRefused = "true", nothing done) a gtrid of another node, one named
   * under another run of the TM (begin.tm_instance), one more than a second
   * ahead of its clock, one past its deadline, and one it has already
   * presumed aborted; the client then calls Begin instead.
   */
  'begin'?: (_arbiter_v1_BeginRequest | null);
}

export interface ExecuteRequest__Output {
  'gtrid': (string);
  'statement': (_arbiter_v1_Statement__Output | null);
  /**
   * Begin rides on this request (one round trip less per transaction): set
   * by a client that named the transaction itself, as "<this TM's node
   * id>:<ULID>" with the ULID's time taken from the TM's clock (learned from
   * a BeginResponse). If the TM does not know gtrid yet, the transaction
   * begins here with these options; its deadline counts from the ULID's
   * time. The TM refuses to begin (ABORTED, retryable, ErrorInfo metadata
   * beginRefused = "true", nothing done) a gtrid of another node, one named
   * under another run of the TM (begin.tm_instance), one more than a second
   * ahead of its clock, one past its deadline, and one it has already
   * presumed aborted; the client then calls Begin instead.
   */
  'begin': (_arbiter_v1_BeginRequest__Output | null);
}
