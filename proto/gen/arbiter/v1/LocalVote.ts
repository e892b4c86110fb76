// Original file: proto/arbiter/v1/transaction_manager.proto


/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote {
  'bqual'?: (Buffer | Uint8Array | string);
  'readOnly'?: (boolean);
  /**
   * Set for a local branch the application named itself instead of calling
   * Enlist (saving a round trip): its XID is (Arbiter's formatId, the gtrid,
   * bqual), bqual is "L<n>" (n a decimal number from 1, no leading zero: the
   * spelling recovery takes for Arbiter's), and the TM registers it here.
   */
  'resource'?: (string);
}

/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote__Output {
  'bqual': (Buffer);
  'readOnly': (boolean);
  /**
   * Set for a local branch the application named itself instead of calling
   * Enlist (saving a round trip): its XID is (Arbiter's formatId, the gtrid,
   * bqual), bqual is "L<n>" (n a decimal number from 1, no leading zero: the
   * spelling recovery takes for Arbiter's), and the TM registers it here.
   */
  'resource': (string);
}
