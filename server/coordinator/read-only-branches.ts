// Branches proved to have written nothing (BranchSession.isReadOnly) are
// never prepared: they stay open until the transaction's outcome is known,
// then end with it, a plain COMMIT when it committed, ROLLBACK otherwise.
// Why not commit them in phase 1, as XA's read-only vote allows: a
// PostgreSQL NOTIFY gets no transaction id until COMMIT, so a branch that
// only notified looks read-only, and committed early it told listeners of a
// transaction that then rolled back (found by hostile testing). Why not
// prepare them: PREPARE TRANSACTION costs two WAL flushes and an XID per
// reader, and refuses readers that touched temporary tables or exported a
// snapshot (found by review).
import type { Logger } from '../logger.js'
import { releaseSession } from './rollback-protocol.js'
import { onBranch, type Branch, type Transaction } from './transaction.js'

/**
 * Ends the readers the way the transaction ended. Resolves whether every one
 * of them did: a reader whose end failed wrote nothing (at most a NOTIFY of
 * it is lost), so the caller decides what that means.
 */
export async function endReaders(ctx: { readonly logger: Logger }, tx: Transaction, readers: readonly Branch[], action: 'commit' | 'rollback'): Promise<boolean> {
  const ended = await Promise.all(
    readers.map((b) =>
      onBranch(b, async () => {
        try {
          const session = await b.session!
          if (action === 'commit') await session.commitOnePhase()
          else await session.rollback()
          b.state = action === 'commit' ? 'read-only' : 'rolled-back'
          return true
        } catch (error) {
          b.state = 'failed'
          b.lastError = error instanceof Error ? error.message : String(error)
          ctx.logger.warn({ gtrid: tx.gtrid, resource: b.resource, action, err: b.lastError }, 'a read-only branch could not end: it wrote nothing')
          return false
        } finally {
          await releaseSession(b)
        }
      }).catch(() => false),
    ),
  )
  return ended.every(Boolean)
}
