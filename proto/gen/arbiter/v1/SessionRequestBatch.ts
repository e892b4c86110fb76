// Original file: proto/arbiter/v1/transaction_manager.proto

import type { SessionRequest as _arbiter_v1_SessionRequest, SessionRequest__Output as _arbiter_v1_SessionRequest__Output } from '../../arbiter/v1/SessionRequest.js';

/**
 * The requests of one BatchedSession message, each handled as if it came alone.
 */
export interface SessionRequestBatch {
  'requests'?: (_arbiter_v1_SessionRequest)[];
}

/**
 * The requests of one BatchedSession message, each handled as if it came alone.
 */
export interface SessionRequestBatch__Output {
  'requests': (_arbiter_v1_SessionRequest__Output)[];
}
