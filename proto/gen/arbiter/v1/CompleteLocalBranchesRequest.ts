// Original file: proto/arbiter/v1/transaction_manager.proto


export interface CompleteLocalBranchesRequest {
  'gtrid'?: (string);
  'committedBquals'?: (Buffer | Uint8Array | string)[];
}

export interface CompleteLocalBranchesRequest__Output {
  'gtrid': (string);
  'committedBquals': (Buffer)[];
}
