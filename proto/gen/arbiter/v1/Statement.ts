// Original file: proto/arbiter/v1/transaction_manager.proto

import type { Value as _arbiter_v1_Value, Value__Output as _arbiter_v1_Value__Output } from '../../arbiter/v1/Value.js';

export interface Statement {
  /**
   * A resource name from the TM's config.
   */
  'resource'?: (string);
  /**
   * One statement, in the resource's own dialect and its driver's
   * placeholders: PostgreSQL $1, $2, …; MySQL/MariaDB ? (bound by the TM's
   * driver). Transaction control (COMMIT, ROLLBACK, PREPARE, XA …, …) is
   * refused: INVALID_ARGUMENT, and the transaction is rolled back.
   */
  'sql'?: (string);
  'params'?: (_arbiter_v1_Value)[];
}

export interface Statement__Output {
  /**
   * A resource name from the TM's config.
   */
  'resource': (string);
  /**
   * One statement, in the resource's own dialect and its driver's
   * placeholders: PostgreSQL $1, $2, …; MySQL/MariaDB ? (bound by the TM's
   * driver). Transaction control (COMMIT, ROLLBACK, PREPARE, XA …, …) is
   * refused: INVALID_ARGUMENT, and the transaction is rolled back.
   */
  'sql': (string);
  'params': (_arbiter_v1_Value__Output)[];
}
