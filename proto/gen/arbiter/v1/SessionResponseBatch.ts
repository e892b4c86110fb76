// Original file: proto/arbiter/v1/transaction_manager.proto

import type { SessionResponse as _arbiter_v1_SessionResponse, SessionResponse__Output as _arbiter_v1_SessionResponse__Output } from '../../arbiter/v1/SessionResponse.js';

/**
 * The answers of one BatchedSession message, in no particular order.
 */
export interface SessionResponseBatch {
  'responses'?: (_arbiter_v1_SessionResponse)[];
}

/**
 * The answers of one BatchedSession message, in no particular order.
 */
export interface SessionResponseBatch__Output {
  'responses': (_arbiter_v1_SessionResponse__Output)[];
}
