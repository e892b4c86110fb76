// Original file: proto/arbiter/v1/transaction_manager.proto


export interface BeginRequest {
  /**
   * 0 means the server's default; bounded by the server's maximum.
   */
  'timeoutMs'?: (number);
  'labels'?: ({[key: string]: string});
  /**
   * Only where Begin rides on another request (ExecuteRequest.begin): the
   * tm_instance of the BeginResponse the client learned the TM from.
   */
  'tmInstance'?: (string);
}

export interface BeginRequest__Output {
  /**
   * 0 means the server's default; bounded by the server's maximum.
   */
  'timeoutMs': (number);
  'labels': ({[key: string]: string});
  /**
   * Only where Begin rides on another request (ExecuteRequest.begin): the
   * tm_instance of the BeginResponse the client learned the TM from.
   */
  'tmInstance': (string);
}
