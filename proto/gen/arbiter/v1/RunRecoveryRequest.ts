// Original file: proto/arbiter/v1/admin.proto


export interface RunRecoveryRequest {
  'resource'?: (string);
}

export interface RunRecoveryRequest__Output {
  'resource': (string);
}
