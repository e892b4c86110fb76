// Original file: proto/arbiter/v1/admin.proto


export interface AdminGetTransactionRequest {
  'gtrid'?: (string);
}

export interface AdminGetTransactionRequest__Output {
  'gtrid': (string);
}
