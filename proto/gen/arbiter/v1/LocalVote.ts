// Original file: proto/arbiter/v1/transaction_manager.proto


/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote {
  'bqual'?: (Buffer | Uint8Array | string);
  'readOnly'?: (boolean);
}

/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote__Output {
  'bqual': (Buffer);
  'readOnly': (boolean);
}
