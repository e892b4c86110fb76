// Original file: proto/arbiter/v1/transaction_manager.proto


/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote {
  /**
   * The branch's bqual: from Enlist's Xid, or the "L<n>" the application chose.
   */
  'bqual'?: (Buffer | Uint8Array | string);
  /**
   * The branch wrote nothing and the application already ended it itself
   * (PostgreSQL COMMIT; MySQL `XA END` + `XA COMMIT <xid> ONE PHASE`)
   * instead of preparing it: it takes no part in phase 2. False: the branch
   * is prepared and waits for the decision. (A read-only branch left
   * prepared on MariaDB is rolled back by the server when its session ends,
   * and a later XA COMMIT fails with 1402.)
   */
  'readOnly'?: (boolean);
  /**
   * Set for a local branch the application named itself instead of calling
   * Enlist (saving a round trip): its XID is (Arbiter's formatId, the gtrid,
   * bqual), bqual is "L<n>" (n a decimal number from 1, no leading zero: the
   * spelling recovery takes for Arbiter's), and the TM registers it here.
   */
  'resource'?: (string);
  /**
   * The kind of database the application's connection is to, as its driver
   * says: "postgres" or "mysql" (empty: not said). A vote whose kind is not
   * its resource's is refused (INVALID_ARGUMENT, nothing decided): that
   * branch is on a database the TM could neither finish nor recover.
   */
  'kind'?: (string);
  /**
   * Where the connection's branch was prepared, as the server told the
   * client, in the spelling of the TM's resource identity (PostgreSQL:
   * "postgres:<system_identifier>/<database>"; empty: not known). A vote
   * whose identity is not its resource's is refused (INVALID_ARGUMENT,
   * nothing decided): phase 2 by XID through that resource, should the
   * application not commit the branch itself, could never reach it.
   */
  'identity'?: (string);
}

/**
 * The outcome of a local branch's prepare, as the application saw it.
 */
export interface LocalVote__Output {
  /**
   * The branch's bqual: from Enlist's Xid, or the "L<n>" the application chose.
   */
  'bqual': (Buffer);
  /**
   * The branch wrote nothing and the application already ended it itself
   * (PostgreSQL COMMIT; MySQL `XA END` + `XA COMMIT <xid> ONE PHASE`)
   * instead of preparing it: it takes no part in phase 2. False: the branch
   * is prepared and waits for the decision. (A read-only branch left
   * prepared on MariaDB is rolled back by the server when its session ends,
   * and a later XA COMMIT fails with 1402.)
   */
  'readOnly': (boolean);
  /**
   * Set for a local branch the application named itself instead of calling
   * Enlist (saving a round trip): its XID is (Arbiter's formatId, the gtrid,
   * bqual), bqual is "L<n>" (n a decimal number from 1, no leading zero: the
   * spelling recovery takes for Arbiter's), and the TM registers it here.
   */
  'resource': (string);
  /**
   * The kind of database the application's connection is to, as its driver
   * says: "postgres" or "mysql" (empty: not said). A vote whose kind is not
   * its resource's is refused (INVALID_ARGUMENT, nothing decided): that
   * branch is on a database the TM could neither finish nor recover.
   */
  'kind': (string);
  /**
   * Where the connection's branch was prepared, as the server told the
   * client, in the spelling of the TM's resource identity (PostgreSQL:
   * "postgres:<system_identifier>/<database>"; empty: not known). A vote
   * whose identity is not its resource's is refused (INVALID_ARGUMENT,
   * nothing decided): phase 2 by XID through that resource, should the
   * application not commit the branch itself, could never reach it.
   */
  'identity': (string);
}
