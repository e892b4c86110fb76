// The session-side steps of a local branch on the application's own pg
// Client / PoolClient (the client library's Enlist mode). Same verification
// as managed branches: PREPARE counts only with the tag 'PREPARE'.
import { classifyPgError } from '../errors/classify-pg.js'
import { AdapterError } from '../types.js'
import type { LocalBranchOps } from '../types.js'
import type { PgClientLike } from './postgres-branch-ops.js'
import { gidOf, pgFinishPrepared, pgPrepare, pgRollbackOpen, txStatus } from './postgres-branch-ops.js'

export type { PgClientLike } from './postgres-branch-ops.js'

export const postgresLocalBranch: LocalBranchOps<PgClientLike> = {
  async start(conn, xid, resource) {
    gidOf(xid, resource)
    const status = txStatus(conn)
    if (status !== undefined && status !== 'I') {
      throw new AdapterError('fatal', resource, `cannot start a branch: the connection is already in a transaction (status ${status})`)
    }
    try {
      await conn.query('BEGIN')
    } catch (err) {
      throw classifyPgError(err, resource, 'BEGIN')
    }
  },

  async prepare(conn, xid, resource, options) {
    try {
      // Checked for writes only when it may have only read (the probe rides with the PREPARE).
      return await pgPrepare(conn, xid, resource, options?.mayOnlyRead === true ? { probeWithPrepare: true } : { probeReadOnly: false })
    } catch (err) {
      throw classifyPgError(err, resource, 'prepare')
    }
  },

  async commit(conn, xid, resource) {
    const status = txStatus(conn)
    if (status === 'T' || status === 'E') {
      throw new AdapterError('fatal', resource, `cannot commit a prepared branch: the connection is inside a transaction (status ${status})`)
    }
    return pgFinishPrepared(conn, 'COMMIT', xid, resource)
  },

  async rollback(conn, xid, resource) {
    const status = txStatus(conn)
    // Still in the branch's block (not prepared yet): a plain ROLLBACK ends it.
    if (status === 'T' || status === 'E') return pgRollbackOpen(conn, resource)
    return pgFinishPrepared(conn, 'ROLLBACK', xid, resource)
  },
}
