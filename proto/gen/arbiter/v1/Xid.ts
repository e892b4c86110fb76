// Original file: proto/arbiter/v1/transaction.proto


/**
 * An X/Open XA transaction branch identifier. gtrid and bqual are at most 64
 * bytes each; format_id is Arbiter's own (recovery touches nothing else).
 */
export interface Xid {
  'formatId'?: (number);
  'gtrid'?: (Buffer | Uint8Array | string);
  'bqual'?: (Buffer | Uint8Array | string);
}

/**
 * An X/Open XA transaction branch identifier. gtrid and bqual are at most 64
 * bytes each; format_id is Arbiter's own (recovery touches nothing else).
 */
export interface Xid__Output {
  'formatId': (number);
  'gtrid': (Buffer);
  'bqual': (Buffer);
}
