// The session-side steps of a local branch on the application's own pg
// Client / PoolClient (the client library's Enlist mode). Same verification
// as managed branches: PREPARE counts only with the tag 'PREPARE'.
import { classifyPgError } from '../errors/classify-pg.js'
import { AdapterError } from '../types.js'
import type { FinishOutcome, LocalBranchOps } from '../types.js'
import type { PgClientLike, PgResultLike } from './postgres-branch-ops.js'
import { beginMarked, gidOf, markQuery, pgFinishPrepared, pgPrepare, pgRollbackOpen, startedOf, txStatus, unmarked, type BlockMark, readPgIdentity } from './postgres-branch-ops.js'

export type { PgClientLike } from './postgres-branch-ops.js'

/** Each connection's server and database (LocalBranchOps.identity); null: asked, and the server did not tell. */
const identities = new WeakMap<PgClientLike, string | null>()

export const postgresLocalBranch: LocalBranchOps<PgClientLike> = {
  identity(conn) {
    return identities.get(conn) ?? undefined
  },

  async start(conn, xid, resource) {
    const gid = gidOf(xid, resource)
    const status = txStatus(conn)
    if (status !== undefined && status !== 'I') {
      throw new AdapterError('fatal', resource, `cannot start a branch: the connection is already in a transaction (status ${status})`)
    }
    try {
      // Marked, so a block the application ends and begins again is told from this one (prepare, rollback).
      // Where the connection is: asked once per connection (it does not move), before its first BEGIN, idle.
      if (!identities.has(conn) && status === 'I') identities.set(conn, (await readPgIdentity(conn)) ?? null)
      const started = startedOf(await conn.query(beginMarked(conn, gid)))
      blockMarks.set(conn, { gid, ...(started !== undefined && { startedUs: started }) })
      watchBlockEnd(conn)
    } catch (err) {
      throw classifyPgError(err, resource, 'BEGIN')
    }
  },

  async prepare(conn, xid, resource, options) {
    if (stopWatching(conn)) {
      // The server said the block ended (idle) since the branch began: the application's own COMMIT or ROLLBACK,
      // perhaps followed by a block that failed, where no query answers and so no mark can be read (found by
      // hostile testing: COMMIT, BEGIN and a failing statement were told as a plain rollback).
      return unmarked(conn)
    }
    try {
      // Checked for writes only when it may have only read (the probe rides with the PREPARE).
      const marked = markOf(conn, gidOf(xid, resource))
      return await pgPrepare(conn, xid, resource, { probeReadOnly: options?.mayOnlyRead === true, marked })
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
    const ended = stopWatching(conn)
    const status = txStatus(conn)
    if (ended && status !== 'I') {
      // The branch's block ended since it began (watchBlockEnd): the open block is another, of the application's.
      await pgRollbackOpen(conn, resource)
      return 'already-done'
    }
    // In an aborted block no query answers, the mark included: a plain ROLLBACK ends it.
    if (status === 'E') return pgRollbackOpen(conn, resource)
    // In a block: ROLLBACK ends it. 'already-done' when it was not the branch's own (it lost the mark): the
    // application ended the branch itself (local-branches.ts reads that as escaped for a branch not prepared).
    if (status === 'T') return rollbackMarked(conn, markOf(conn, gidOf(xid, resource)), resource)
    return pgFinishPrepared(conn, 'ROLLBACK', xid, resource)
  },
}

/** ROLLBACK of the open block, and whether it was the branch's (its mark, read in the same round trip). */
async function rollbackMarked(conn: PgClientLike, mark: BlockMark, resource: string): Promise<FinishOutcome> {
  let answer: unknown
  try {
    answer = await conn.query(`${markQuery(conn, mark)}; ROLLBACK`)
  } catch (err) {
    throw classifyPgError(err, resource, 'ROLLBACK')
  }
  const results = (Array.isArray(answer) ? answer : [answer]) as PgResultLike[]
  return (results[0]?.rows[0] as { mine?: unknown } | undefined)?.mine === true ? 'done' : 'already-done'
}

/** The pg Client's protocol connection, where the server's ReadyForQuery messages arrive (absent in other drivers). */
interface ProtocolEvents {
  on(event: 'readyForQuery', listener: (message: { status?: string }) => void): unknown
  removeListener(event: 'readyForQuery', listener: (message: { status?: string }) => void): unknown
}

/** Per connection with a branch begun: the listener, and whether the server has said "idle" since the branch's BEGIN. */
const blockWatches = new WeakMap<object, { listener: (message: { status?: string }) => void; ended: boolean }>()

/**
 * Listens for the server's ReadyForQuery on the connection: status 'I'
 * (idle) after the branch's BEGIN answered means its block ended, by the
 * application's own COMMIT or ROLLBACK, whatever it sent next. A cheap
 * check (no round trip) on what the server itself reports. Not seen: a
 * COMMIT sent in one simple query with what follows it (one answer for all);
 * the block's mark still tells that one when the new block is healthy.
 */
function watchBlockEnd(conn: PgClientLike): void {
  stopWatching(conn)
  const events = (conn as { connection?: Partial<ProtocolEvents> }).connection
  if (typeof events?.on !== 'function' || typeof events.removeListener !== 'function') return
  const watch = { listener: (message: { status?: string }) => void (message.status === 'I' && (watch.ended = true)), ended: false }
  events.on('readyForQuery', watch.listener)
  blockWatches.set(conn, watch)
}

/** Stops watching the connection (before the branch's own PREPARE or ROLLBACK); whether its block ended meanwhile. */
function stopWatching(conn: PgClientLike): boolean {
  const watch = blockWatches.get(conn)
  if (watch === undefined) return false
  blockWatches.delete(conn)
  ;(conn as { connection?: ProtocolEvents }).connection?.removeListener('readyForQuery', watch.listener)
  return watch.ended
}

/** The mark of the branch block begun on each connection (start), for its prepare and rollback. */
const blockMarks = new WeakMap<object, BlockMark>()

/** The mark of `gid`'s block on `conn`: with its start time when this process began it. */
function markOf(conn: PgClientLike, gid: string): BlockMark {
  const known = blockMarks.get(conn)
  return known?.gid === gid ? known : { gid }
}
