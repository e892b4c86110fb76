// Original file: proto/arbiter/v1/admin.proto


export interface ListInDoubtRequest {
  'resource'?: (string);
}

export interface ListInDoubtRequest__Output {
  'resource': (string);
}
