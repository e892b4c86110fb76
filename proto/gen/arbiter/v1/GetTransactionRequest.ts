// Original file: proto/arbiter/v1/transaction_manager.proto


export interface GetTransactionRequest {
  'gtrid'?: (string);
}

export interface GetTransactionRequest__Output {
  'gtrid': (string);
}
