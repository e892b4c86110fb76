// Original file: proto/arbiter/v1/transaction_manager.proto


export interface CommittedLocalBranches {
  'gtrid'?: (string);
  'committedBquals'?: (Buffer | Uint8Array | string)[];
}

export interface CommittedLocalBranches__Output {
  'gtrid': (string);
  'committedBquals': (Buffer)[];
}
