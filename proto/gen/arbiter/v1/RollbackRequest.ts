// Original file: proto/arbiter/v1/transaction_manager.proto


export interface RollbackRequest {
  'gtrid'?: (string);
  'reason'?: (string);
}

export interface RollbackRequest__Output {
  'gtrid': (string);
  'reason': (string);
}
