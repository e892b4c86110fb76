// Commit's local votes: each names an enlisted local branch, or announces
// one the application named itself (saving the Enlist round trip).
import { isLocalBqual } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import type { LocalVoteInput } from './commit-protocol.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { Transaction } from './transaction.js'

/**
 * Every vote must name an enlisted local branch, or announce one the
 * application named itself (resource set, bqual "L…": the TM's own bquals
 * are "b…", so the two never collide). Returns the announced ones. Nothing
 * changes when a vote is bad: the caller can still roll back.
 */
export function checkLocalVotes(
tx: Transaction,
votes: readonly LocalVoteInput[],
resources: ResourceRegistry,
maxBranches: number,
): LocalVoteInput[] {
  const seen = new Set<string>()
  const announced: LocalVoteInput[] = []
  for (const vote of votes) {
    const name = vote.bqual.toString()
    if (seen.has(vote.bqual.toString('hex'))) throw new TmError('TM_INVALID_ARGUMENT', `two local votes for branch "${name}"`)
    seen.add(vote.bqual.toString('hex'))
    const enlisted = tx.branches.find((b) => b.mode === 'local' && b.xid.bqual.equals(vote.bqual))
    if (enlisted) {
      checkKind(vote, enlisted.resource, resources)
      checkIdentity(vote, enlisted.resource, resources)
      continue
    }
    if (!vote.resource) {
      throw new TmError('TM_INVALID_ARGUMENT', `local vote for branch "${name}" which was never enlisted in ${tx.gtrid} (enlist it, or give its resource)`)
    }
    // Recovery only ever touches the XIDs Arbiter writes (isArbiterXid): a bqual outside that spelling would be left prepared for good.
    if (!isLocalBqual(vote.bqual)) {
      throw new TmError('TM_INVALID_ARGUMENT', `a local branch named by the application needs a bqual "L<n>" (n from 1, no leading zero, e.g. "L1"), got "${name.slice(0, 70)}"`)
    }
    if (tx.branches.some((b) => b.xid.bqual.equals(vote.bqual))) throw new TmError('TM_INVALID_ARGUMENT', `branch "${name}" exists already in ${tx.gtrid}`)
    // Configured is enough: the application already prepared it, and phase 2 retries while the TM cannot reach it.
    const adapter = resources.adapter(vote.resource)
    if (!adapter) {
      throw new TmError('TM_INVALID_ARGUMENT', `unknown resource "${vote.resource}" (configured: ${resources.names().join(', ') || 'none'})`)
    }
    if (adapter.kind === 'redis') {
      throw new TmError('TM_INVALID_ARGUMENT', `resource "${vote.resource}" is Redis: local branches need a SQL connection`)
    }
    checkKind(vote, vote.resource, resources)
    checkIdentity(vote, vote.resource, resources)
    announced.push(vote)
  }
  if (tx.branches.length + announced.length > maxBranches) {
    throw new TmError('TM_INVALID_ARGUMENT', `transaction ${tx.gtrid} would have more than ${maxBranches} branches (limits.maxBranchesPerTransaction)`)
  }
  return announced
}

/**
 * A branch prepared on a connection of another kind than its resource's is
 * on a database the TM can neither finish nor recover. Found by hostile
 * testing: a MariaDB connection enlisted as the PostgreSQL resource was told
 * COMMITTED while its branch stayed prepared (the TM's COMMIT PREPARED by
 * XID found nothing on PostgreSQL and took that as done). Refused here, no
 * decision is made, and the client rolls the branch back on its connection.
 */
function checkKind(vote: LocalVoteInput, resource: string, resources: ResourceRegistry): void {
  const kind = resources.adapter(resource)?.kind
  if (vote.kind === undefined || kind === undefined || vote.kind === kind) return
  throw new TmError(
    'TM_INVALID_ARGUMENT',
    `local branch "${vote.bqual.toString().slice(0, 70)}" was prepared on a ${vote.kind} connection, but resource "${resource}" is ${kind}: enlist a connection to that resource's own database`,
  )
}

/**
 * A branch prepared on a connection to another server or database than its
 * resource reaches. Found by hostile testing: a resource url that left off
 * the database (PostgreSQL then takes "postgres") beside an application
 * connection to "bank" committed while the application lived; once it died
 * at commit, phase 2 by XID retried for good ("prepared transaction belongs
 * to another database"), the branch held its row locks, and in-doubt showed
 * nothing. Refused here, nothing decided: the client rolls it back.
 */
function checkIdentity(vote: LocalVoteInput, resource: string, resources: ResourceRegistry): void {
  const reaches = resources.identity(resource)
  if (vote.identity === undefined || reaches === undefined || vote.identity === reaches) return
  throw new TmError(
    'TM_INVALID_ARGUMENT',
    `local branch "${vote.bqual.toString().slice(0, 70)}" was prepared on ${vote.identity.slice(0, 200)}, but resource "${resource}" reaches ${reaches}: ` +
      "enlist a connection to that resource's own database, or give the resource the url of the application's",
  )
}
