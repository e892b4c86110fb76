// The session-side steps of a local branch on the application's own mysql2
// promise Connection / PoolConnection (the client library's Enlist mode).
// Phase 2 runs on the same connection while it lives (MariaDB keeps the
// prepared branch attached to it). Never reset() such a connection or return
// it to a pool with resetOnRelease before the branch is finished.
import type { LocalBranchOps, Xid } from '../types.js'
import { xidKey } from '../xid/xid.js'
import type { MysqlConnectionLike } from './mysql-branch-ops.js'
import { writeCount, xaFinish, xaPrepare, xaRollbackOwn, xaStart, xidLiteral } from './mysql-branch-ops.js'

export type { MysqlConnectionLike } from './mysql-branch-ops.js'

/** Write counters at XA START, per connection, for the read-only vote. */
const baselines = new WeakMap<object, { key: string; count: bigint }>()

function baselineOf(conn: MysqlConnectionLike, xid: Xid): bigint | undefined {
  const b = baselines.get(conn)
  return b !== undefined && b.key === xidKey(xid) ? b.count : undefined
}

export const mysqlLocalBranch: LocalBranchOps<MysqlConnectionLike> = {
  async start(conn, xid, resource, options) {
    xidLiteral(xid, resource)
    if (options?.mayOnlyRead !== true) {
      // Prepared as a writer whatever it does: no baseline, no count at prepare.
      baselines.delete(conn)
      await xaStart(conn, xid, resource)
      return
    }
    // Always a fresh baseline (a round trip): between branches the connection
    // is the application's, and FLUSH STATUS or a change of user there resets
    // the counters, which could make a writer look read-only against an old count.
    let count: bigint | undefined
    try {
      count = await writeCount(conn)
    } catch {
      count = undefined // no read-only vote for this branch
    }
    await xaStart(conn, xid, resource)
    if (count === undefined) baselines.delete(conn)
    else baselines.set(conn, { key: xidKey(xid), count })
  },

  async prepare(conn, xid, resource) {
    const baseline = baselineOf(conn, xid)
    baselines.delete(conn)
    return xaPrepare(conn, xid, resource, baseline === undefined ? {} : { baseline })
  },

  async commit(conn, xid, resource) {
    return xaFinish(conn, 'COMMIT', xid, resource)
  },

  async rollback(conn, xid, resource) {
    baselines.delete(conn)
    // 'already-done': gone from the connection, ended by the application (local-branches.ts reads that as escaped).
    return xaRollbackOwn(conn, xid, resource)
  },
}
