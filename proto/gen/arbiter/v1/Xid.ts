// Original file: proto/arbiter/v1/transaction.proto


/**
 * An X/Open XA transaction branch identifier. gtrid and bqual are at most 64
 * bytes each; format_id is Arbiter's own (recovery touches nothing else).
 * 
 * Arbiter's XIDs: format_id 0x41524254 (1095909972, ASCII "ARBT"); gtrid
 * the transaction's gtrid as UTF-8 ("<node id>:<ULID>", the ULID in upper
 * case); bqual "b<n>" for a branch the TM numbers (managed ones, and local
 * ones from Enlist), "L<n>" for a local branch the application names itself
 * (n a decimal from 1, no leading zero). A prepared branch spelled any other
 * way is foreign to the TM: listed for operators, never finished or
 * recovered. An application preparing a local branch spells the XID on its
 * server exactly as the TM does (adapters/xid/xid.ts):
 * - PostgreSQL gid: "<format_id in decimal>_<base64(gtrid)>_<base64(bqual)>",
 * standard base64 alphabet with "=" padding, e.g.
 * "1095909972_bm9kZTE6MDFIWjZBQkNERUZHSEpLTU5QUVJTVFZXWFk=_YjE=" for gtrid
 * "node1:01HZ6ABCDEFGHJKMNPQRSTVWXY", bqual "b1";
 * - MySQL/MariaDB: X'<gtrid hex>',X'<bqual hex>',<format_id in decimal>,
 * e.g. XA PREPARE X'6e6f6465313a3031485a…5859',X'6231',1095909972.
 */
export interface Xid {
  'formatId'?: (number);
  'gtrid'?: (Buffer | Uint8Array | string);
  'bqual'?: (Buffer | Uint8Array | string);
}

/**
 * An X/Open XA transaction branch identifier. gtrid and bqual are at most 64
 * bytes each; format_id is Arbiter's own (recovery touches nothing else).
 * 
 * Arbiter's XIDs: format_id 0x41524254 (1095909972, ASCII "ARBT"); gtrid
 * the transaction's gtrid as UTF-8 ("<node id>:<ULID>", the ULID in upper
 * case); bqual "b<n>" for a branch the TM numbers (managed ones, and local
 * ones from Enlist), "L<n>" for a local branch the application names itself
 * (n a decimal from 1, no leading zero). A prepared branch spelled any other
 * way is foreign to the TM: listed for operators, never finished or
 * recovered. An application preparing a local branch spells the XID on its
 * server exactly as the TM does (adapters/xid/xid.ts):
 * - PostgreSQL gid: "<format_id in decimal>_<base64(gtrid)>_<base64(bqual)>",
 * standard base64 alphabet with "=" padding, e.g.
 * "1095909972_bm9kZTE6MDFIWjZBQkNERUZHSEpLTU5QUVJTVFZXWFk=_YjE=" for gtrid
 * "node1:01HZ6ABCDEFGHJKMNPQRSTVWXY", bqual "b1";
 * - MySQL/MariaDB: X'<gtrid hex>',X'<bqual hex>',<format_id in decimal>,
 * e.g. XA PREPARE X'6e6f6465313a3031485a…5859',X'6231',1095909972.
 */
export interface Xid__Output {
  'formatId': (number);
  'gtrid': (Buffer);
  'bqual': (Buffer);
}
