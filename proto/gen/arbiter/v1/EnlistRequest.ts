// Original file: proto/arbiter/v1/transaction_manager.proto


export interface EnlistRequest {
  'gtrid'?: (string);
  'resource'?: (string);
}

export interface EnlistRequest__Output {
  'gtrid': (string);
  'resource': (string);
}
