// Two-phase commit, presumed abort (ARCHITECTURE.md, "Commit protocol").
//
// Phase 1 prepares every branch in parallel; any "no", error or the deadline
// aborts. The commit point is the DECISION record, forced to the log before
// any branch is told to commit. Phase 2 commits every prepared branch, in
// parallel, retrying until done, then appends END (not forced).
//
// Shortcuts every serious TM takes: one writing branch → one-phase commit, no
// log record; read-only branches are never prepared (they end with the
// transaction: read-only-branches.ts).
import { AdapterError, type BranchSession, type Vote, type Xid } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import { failpoint } from '../failpoints.js'
import { LogWriteError, logRefusal, type DecisionLog } from '../log/decision-log.js'
import type { Logger } from '../logger.js'
import type { FinisherContext } from './branch-finisher.js'
import { abortedError, isTransient } from './abort-errors.js'
import { commitLocal, commitManaged } from './phase-two.js'
import { logEnd } from './log-end.js'
import { secondsSince } from './observer.js'
import { inSpan, traceparentOf } from '../tracing/spans.js'
import { endReaders } from './read-only-branches.js'
import { abortTransaction, releaseSession, type AbortCause } from './rollback-protocol.js'
import { onBranch, type Branch, type Transaction } from './transaction.js'

export interface CommitContext extends FinisherContext {
  readonly log: DecisionLog
  readonly logger: Logger
  /** How long phase 2 waits for the application to commit its local branches before doing it itself. */
  readonly localBranchGraceMs: number
  /** Metrics and observers hook in here. */
  readonly onCommitted?: (tx: Transaction) => void
}

export interface LocalVoteInput {
  readonly bqual: Buffer
  readonly readOnly: boolean
  /** Set when the application named the branch itself (no Enlist): the TM registers it at commit. */
  readonly resource?: string
  /** The kind of database its connection is to, when the client said ('postgres', 'mysql'): checked against its resource's. */
  readonly kind?: string
  /** Where its connection's server and database are (LocalVote.identity), when the client said: checked against its resource's. */
  readonly identity?: string
}

export interface CommitOutcome {
  readonly tx: Transaction
  /** Local branches the application should now commit on its own connections. */
  readonly commitLocally: readonly Xid[]
}

/** Runs the protocol for a transaction already moved to PREPARING by the caller. */
export async function runCommit(
  ctx: CommitContext,
  tx: Transaction,
  localVotes: readonly LocalVoteInput[],
  waitFor: 'applied' | 'durable',
): Promise<CommitOutcome> {
  try {
    return await commitSteps(ctx, tx, localVotes, waitFor)
  } catch (error) {
    // Anything unforeseen before the commit point: roll back (presumed abort)
    // rather than leave the transaction PREPARING, where nothing ends it.
    if (error instanceof TmError || tx.state !== 'PREPARING') throw error
    ctx.logger.error({ gtrid: tx.gtrid, err: String(error) }, 'commit failed before its commit point: rolling back')
    return failAbort(ctx, tx, { reason: `commit failed before its commit point: ${error instanceof Error ? error.message : String(error)}` })
  }
}

async function commitSteps(
  ctx: CommitContext,
  tx: Transaction,
  localVotes: readonly LocalVoteInput[],
  waitFor: 'applied' | 'durable',
): Promise<CommitOutcome> {
  for (const vote of localVotes) {
    const branch = tx.branches.find((b) => b.mode === 'local' && b.xid.bqual.equals(vote.bqual))!
    branch.state = vote.readOnly ? 'read-only' : 'prepared'
  }
  const unvoted = tx.branches.filter((b) => b.mode === 'local' && b.state === 'active')
  if (unvoted.length > 0) {
    await failAbort(ctx, tx, { reason: `local branch ${unvoted[0]!.xid.bqual.toString()} on "${unvoted[0]!.resource}" was not prepared by the application` })
  }

  const refusal = logRefusal(ctx.log)
  if (refusal !== undefined) {
    // Preparing now would only strand branches: no decision could be logged. The log says why
    // (a failed fsync: restart; no lease in the shared store: rejoining by itself).
    await failAbort(ctx, tx, { reason: refusal, retryable: true })
  }
  await failpoint('before-prepare')
  const phase1Started = performance.now()
  const managed = tx.branches.filter((b) => b.mode === 'managed')
  const localPrepared = tx.branches.filter((b) => b.mode === 'local' && b.state === 'prepared')

  // Branches that may have only read are asked (a round trip each, at once); sure writers are not. A proved reader
  // is never prepared: it stays open and ends with the transaction (read-only-branches.ts says why).
  const maybeReaders = managed.filter((b) => b.onlyReadsSoFar)
  const readOnly =
    maybeReaders.length === 0
      ? []
      : await beforeDeadline(
          ctx,
          tx,
          // A branch whose begin failed answers undefined: taken as a writer, it votes no at prepare.
          Promise.all(maybeReaders.map((b) => onBranch(b, async () => (await b.session!).isReadOnly()).catch(() => undefined))),
          'while checking for read-only branches',
        )
  const readers = maybeReaders.filter((_, i) => readOnly[i] === true)
  const writers = managed.filter((b) => !readers.includes(b))

  // One writer and no prepared local branch: it commits in one phase, with no log record.
  if (localPrepared.length === 0 && writers.length <= 1) {
    ctx.observer?.phase1(secondsSince(phase1Started))
    return commitOnePhase(ctx, tx, writers[0], readers)
  }

  const prepared = [...(await prepareAll(ctx, tx, writers)), ...localPrepared]
  ctx.observer?.phase1(secondsSince(phase1Started))
  await failpoint('after-prepare')
  await unlessDoomed(ctx, tx)
  if (prepared.length === 0) return commitReadersOnly(ctx, tx, readers)
  // Even one prepared branch gets its decision logged: if its commit fails on
  // its session, finishing it by XID may outlast this process, and without a
  // record a restart would presume abort. (Single writers took the one-phase
  // path above; the shipped adapters never get here with one.)
  return decideAndFinish(ctx, tx, prepared, waitFor, readers)
}

/** Nothing was written anywhere: the readers commit; if one cannot, the transaction rolls back (retryable), never unknown. */
async function commitReadersOnly(ctx: CommitContext, tx: Transaction, readers: readonly Branch[]): Promise<CommitOutcome> {
  tx.commitPath = 'read-only'
  if (!(await endReaders(ctx, tx, readers, 'commit'))) {
    // Found by review: a lone reader whose COMMIT lost its connection read OUTCOME_UNKNOWN, for a transaction that wrote nothing.
    await failAbort(ctx, tx, { reason: `a read-only branch could not commit (${readers.find((b) => b.state === 'failed')?.lastError ?? 'failed'}): nothing was written`, retryable: true })
  }
  return finishCommitted(ctx, tx)
}

/** Prepares managed branches in parallel, bounded by the deadline; returns the ones that voted prepared. */
async function prepareAll(ctx: CommitContext, tx: Transaction, branches: Branch[]): Promise<Branch[]> {
  const votes = await beforeDeadline(
    ctx,
    tx,
    Promise.all(
      branches.map((b) =>
        inSpan('arbiter.prepare', { 'arbiter.resource': b.resource, 'arbiter.gtrid': tx.gtrid }, async (span) => {
          const vote = await onBranch(b, () => prepareOne(b))
          span.setAttribute('arbiter.vote', vote.vote)
          return vote
        }),
      ),
    ),
    'during prepare',
  )
  const prepared: Branch[] = []
  for (const [i, vote] of votes.entries()) {
    const branch = branches[i]!
    if (vote.vote === 'no') {
      ctx.observer?.resourceError(branch.resource, vote.error?.errorClass ?? 'vote-no')
      ctx.logger.warn({ gtrid: tx.gtrid, resource: branch.resource, bqual: branch.xid.bqual.toString('hex'), reason: vote.reason }, 'branch voted no')
      await failAbort(ctx, tx, {
        reason: `resource "${branch.resource}" voted no: ${vote.reason}`,
        serverCode: vote.error?.serverCode,
        retryable: vote.error?.errorClass === 'retryable' || isTransient(vote.error?.serverCode),
      })
    }
    branch.state = vote.vote === 'prepared' ? 'prepared' : 'read-only'
    ctx.logger.debug({ gtrid: tx.gtrid, resource: branch.resource, bqual: branch.xid.bqual.toString('hex'), vote: vote.vote }, 'branch voted')
    if (vote.vote === 'read-only') await releaseSession(branch)
    else prepared.push(branch)
  }
  return prepared
}

/**
 * Phase 1 work, bounded by the transaction's deadline: a stalled server
 * (paused, blackholed) aborts the transaction at the deadline instead of
 * holding the caller. What the stalled call does later is cleaned up by the
 * rollback, or by recovery as an orphan.
 */
async function beforeDeadline<T>(ctx: CommitContext, tx: Transaction, work: Promise<T>, what: string): Promise<T> {
  const remaining = tx.deadline - Date.now()
  if (remaining <= 0) return failAbort(ctx, tx, { reason: `deadline exceeded ${what}`, retryable: true })
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<typeof DEADLINE>((resolve) => (timer = setTimeout(() => resolve(DEADLINE), remaining)))
  const result = await Promise.race([work, deadline]).finally(() => clearTimeout(timer))
  if (result === DEADLINE) return failAbort(ctx, tx, { reason: `deadline exceeded ${what}`, retryable: true })
  return result
}

const DEADLINE = Symbol('deadline')

async function prepareOne(branch: Branch): Promise<Vote> {
  try {
    return await (await branch.session!).prepare({ likelyWrote: !branch.onlyReadsSoFar })
  } catch (error) {
    return { vote: 'no', reason: error instanceof Error ? error.message : String(error) }
  }
}

/** Commits `writer` in one phase, then the readers (read-only-branches.ts); with no writer, the readers alone. */
async function commitOnePhase(ctx: CommitContext, tx: Transaction, writer: Branch | undefined, readers: readonly Branch[]): Promise<CommitOutcome> {
  if (!writer) {
    await unlessDoomed(ctx, tx)
    return commitReadersOnly(ctx, tx, readers)
  }
  tx.commitPath = 'one-phase'
  if (Date.now() > tx.deadline) await failAbort(ctx, tx, { reason: 'deadline exceeded before commit', retryable: true })
  let committed: boolean
  try {
    committed = await onBranch(writer, async () => {
      // Checked in the writer's own turn: a statement queued before this Commit has finished by now.
      if (tx.doomed) return false
      let session: BranchSession
      try {
        session = await writer.session!
      } catch (error) {
        // It never began (no pooled connection in time): nothing to commit, nothing committed.
        throw new AdapterError('vote-no', writer.resource, `the branch never began: ${error instanceof Error ? error.message : String(error)}`)
      }
      await session.commitOnePhase()
      return true
    })
    if (committed) {
      writer.state = 'committed'
      await failpoint('after-one-phase-commit')
    }
  } catch (error) {
    const adapterError = error as { errorClass?: string; serverCode?: string; message?: string }
    if (adapterError.errorClass !== undefined) ctx.observer?.resourceError(writer.resource, adapterError.errorClass)
    if (adapterError.errorClass === 'vote-no') {
      await failAbort(ctx, tx, {
        reason: `resource "${writer.resource}" could not commit: ${adapterError.message}`,
        serverCode: adapterError.serverCode,
        retryable: isTransient(adapterError.serverCode),
      })
    }
    // The connection died during COMMIT: the server alone knows whether it happened. Not HEURISTIC (mixed): with one
    // writer nothing can be mixed, and a caller asking later must hear unknown, not "an operator contradicted it".
    tx.state = 'OUTCOME_UNKNOWN'
    tx.abortReason = `one-phase commit on "${writer.resource}" has an unknown outcome: ${adapterError.message}`
    writer.state = 'failed'
    ctx.logger.error({ gtrid: tx.gtrid, resource: writer.resource, err: adapterError.message }, 'one-phase commit outcome unknown')
    await releaseSession(writer)
    await endReaders(ctx, tx, readers, 'rollback')
    throw new TmError('TM_OUTCOME_UNKNOWN', tx.abortReason)
  }
  if (!committed) await failAbort(ctx, tx, tx.doomed!) // rolls the writer (and the readers) back on their sessions
  await releaseSession(writer)
  // Committed: the readers end the same way (a reader that cannot wrote nothing: the transaction stays committed).
  await endReaders(ctx, tx, readers, 'commit')
  return finishCommitted(ctx, tx)
}

/** The commit point, then phase 2. */
async function decideAndFinish(
  ctx: CommitContext,
  tx: Transaction,
  prepared: Branch[],
  waitFor: 'applied' | 'durable',
  readers: readonly Branch[],
): Promise<CommitOutcome> {
  tx.commitPath = 'two-phase'
  await unlessDoomed(ctx, tx)
  if (Date.now() > tx.deadline) await failAbort(ctx, tx, { reason: 'deadline exceeded before the commit point', retryable: true })
  await failpoint('before-decision')
  const appendStarted = performance.now()
  tx.decisionPending = true
  try {
    await inSpan('arbiter.decision.write', { 'arbiter.gtrid': tx.gtrid, 'arbiter.branches': prepared.length }, (span) =>
      ctx.log.appendDecision(
        tx.gtrid,
        prepared.map((b) => {
          b.preparedOn = ctx.resources.identityTag(b.resource)
          return { resource: b.resource, bqual: b.xid.bqual.toString('hex'), ...(b.preparedOn !== undefined && { on: b.preparedOn }) }
        }),
        // Kept beside the decision so a recovery or takeover that finishes it links to this trace.
        traceparentOf(span),
      ),
    )
  } catch (error) {
    if (error instanceof LogWriteError) {
      tx.decisionPending = false // not in the log, and never will be
      await failAbort(ctx, tx, { reason: `the decision could not be logged: ${error.message}`, retryable: true })
    }
    // fsync failed: the record may or may not be durable. Neither commit nor
    // roll back; stay PREPARING (live, so recovery leaves the branches alone)
    // until a restart reads the log and decides.
    ctx.logger.fatal({ gtrid: tx.gtrid, err: String(error) }, 'decision log failed: outcome unknown until restart')
    throw new TmError('TM_OUTCOME_UNKNOWN', `the decision log failed while logging the commit: ${String(error)}`)
  }
  ctx.observer?.decisionAppended(secondsSince(appendStarted))
  const phase2Started = performance.now()
  tx.decisionPending = false
  tx.state = 'COMMITTING'
  tx.touch()
  ctx.logger.debug({ gtrid: tx.gtrid, branches: prepared.length }, 'decision logged: committing')
  await failpoint('after-decision')

  const managed = prepared.filter((b) => b.mode === 'managed')
  const local = prepared.filter((b) => b.mode === 'local')
  const managedDone = Promise.all(
    managed.map((b) => inSpan('arbiter.commit_branch', { 'arbiter.resource': b.resource, 'arbiter.gtrid': tx.gtrid }, async (span) => {
      await commitManaged(ctx, tx, b)
      span.setAttribute('arbiter.attempts', b.attempts + 1)
    })),
  )
  const localDone = Promise.all(local.map((b) => commitLocal(ctx, tx, b)))
  // The readers end with the decision, beside phase 2; the answer does not wait for them (they changed nothing).
  const readersDone = endReaders(ctx, tx, readers, 'commit')
  const phaseTwo = tx.startPhaseTwo((async () => {
    await Promise.all([managedDone, localDone, readersDone])
    ctx.observer?.phase2(secondsSince(phase2Started))
    // A branch still prepared (shutdown, unconfigured resource, an operator's
    // resolution not yet carried out) keeps the decision open: END would let
    // a later restart presume abort for it.
    if (tx.branches.some((b) => b.state === 'prepared')) return
    await failpoint('before-end')
    logEnd(ctx, tx) // not waited for (log-end.ts)
    // An operator rolled a branch back by hand (forced) while this decision was being made, before phase 2
    // committed it: not COMMITTED. (Phase 2 first: the operator's rollback found it done, and it committed.)
    // Likewise a branch an operator abandoned (its server gone): it is not known to have committed.
    const overruled = tx.branches.find((b) => (b.resolution === 'rollback' && b.state === 'rolled-back') || b.state === 'abandoned')
    if (overruled) {
      tx.state = 'HEURISTIC'
      tx.abortReason ??= `heuristic: branch on "${overruled.resource}" was ${overruled.state === 'abandoned' ? 'abandoned' : 'rolled back'} by an operator while the transaction committed`
      tx.touch()
      ctx.logger.warn({ gtrid: tx.gtrid, resource: overruled.resource }, 'committed, except a branch an operator rolled back: heuristic')
      ctx.observer?.heuristic(tx)
      return
    }
    // A branch whose commit applied only in part (a Redis key changed outside Arbiter): not COMMITTED either.
    const partly = tx.branches.find((b) => b.partlyCommitted !== undefined)
    if (partly) {
      tx.state = 'HEURISTIC'
      tx.abortReason ??= `heuristic: branch on "${partly.resource}": ${partly.partlyCommitted}`
      tx.touch()
      ctx.observer?.heuristic(tx)
      return
    }
    tx.state = 'COMMITTED'
    tx.touch()
    ctx.logger.debug({ gtrid: tx.gtrid, path: tx.commitPath }, 'committed')
    ctx.onCommitted?.(tx)
    ctx.observer?.finished(tx, 'committed')
  })())
  phaseTwo.catch((error: unknown) => ctx.logger.error({ gtrid: tx.gtrid, err: String(error) }, 'phase 2 failed'))
  if (waitFor === 'applied') {
    await managedDone
    if (local.length === 0) await tx.phaseTwoDone
  }
  return { tx, commitLocally: local.map((b) => b.xid) }
}

function finishCommitted(ctx: CommitContext, tx: Transaction): CommitOutcome {
  tx.state = 'COMMITTED'
  tx.touch()
  ctx.logger.debug({ gtrid: tx.gtrid, path: tx.commitPath }, 'committed')
  ctx.onCommitted?.(tx)
  ctx.observer?.finished(tx, 'committed')
  return { tx, commitLocally: [] }
}

/** Rolls back (and throws ABORTED) when a statement running as the Commit began failed (tx.doomed). */
async function unlessDoomed(ctx: CommitContext, tx: Transaction): Promise<void> {
  if (tx.doomed) await failAbort(ctx, tx, tx.doomed)
}

/** Rolls everything back and throws ABORTED with the reason. */
async function failAbort(ctx: CommitContext, tx: Transaction, cause: AbortCause): Promise<never> {
  await abortTransaction(ctx, tx, cause)
  throw abortedError(tx)
}

