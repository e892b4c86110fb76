// Original file: proto/arbiter/v1/admin.proto


export interface ResourceHealth {
  'name'?: (string);
  'kind'?: (string);
  'reachable'?: (boolean);
  'error'?: (string);
  'preparedBranches'?: (number);
  /**
   * PostgreSQL only: max_prepared_transactions minus prepared transactions.
   */
  'preparedHeadroom'?: (number);
  'poolInUse'?: (number);
  'poolSize'?: (number);
}

export interface ResourceHealth__Output {
  'name': (string);
  'kind': (string);
  'reachable': (boolean);
  'error': (string);
  'preparedBranches': (number);
  /**
   * PostgreSQL only: max_prepared_transactions minus prepared transactions.
   */
  'preparedHeadroom': (number);
  'poolInUse': (number);
  'poolSize': (number);
}
