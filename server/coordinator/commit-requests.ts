// Commit as the coordinator takes it, around the protocol itself
// (commit-protocol.ts): a repeated Commit gets the first one's answer; a
// transaction past ACTIVE answers with its state; the local votes are checked
// and the local branches they announce added; the deadline is checked last;
// then the protocol runs, and its outcome reaches the hooks and metrics. Also
// the application's report that it committed its local branches itself,
// which phase 2 waits for. Split from coordinator.ts.
import { ARBITER_FORMAT_ID, xidFromParts } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'
import { abortedError } from './abort-errors.js'
import { runCommit, type CommitContext, type CommitOutcome, type LocalVoteInput } from './commit-protocol.js'
import type { BeginOptions } from './coordinator-config.js'
import { runsElsewhere, type KnownTransactions } from './known-transactions.js'
import { checkLocalVotes } from './local-votes.js'
import type { CoordinatorObserver } from './observer.js'
import type { ResourceRegistry } from './resource-registry.js'
import type { AbortCause } from './rollback-protocol.js'
import type { TxState } from './transaction-state.js'
import type { Transaction } from './transaction.js'
import { stateError, toldRolledBack } from './wrong-state.js'

export interface CommitRequestsDeps {
  /** What the protocol runs with. */
  readonly protocol: CommitContext
  readonly known: KnownTransactions
  readonly resources: ResourceRegistry
  /** limits.maxBranchesPerTransaction, with the branches the local votes announce. */
  readonly maxBranches: number
  readonly observer?: CoordinatorObserver | undefined
  readonly onRolledBack?: ((tx: Transaction) => void) | undefined
  /** Rolls a transaction back as the coordinator does (its hooks and metrics told). */
  readonly abort: (tx: Transaction, cause: AbortCause) => Promise<void>
}

export class CommitRequests {
  constructor(private readonly deps: CommitRequestsDeps) {}

  /**
   * Commits the transaction (begun by this Commit when the client named it:
   * `begin`). One that ended HEURISTIC in phase 2 (a branch committed only in
   * part) is answered TM_HEURISTIC_MIXED, not with a Transaction whose state
   * a client might not read: a successful Commit means committed.
   */
  async commit(gtrid: string, localVotes: readonly LocalVoteInput[], waitFor: 'applied' | 'durable', begin?: BeginOptions, runClaim?: object): Promise<CommitOutcome> {
    const outcome = await this.commitOnce(gtrid, localVotes, waitFor, begin, runClaim)
    if (outcome.tx.state === 'HEURISTIC') throw heuristicError(outcome.tx)
    // With local branches the answer comes before phase 2 ends (state COMMITTING): a managed branch already committed
    // only in part makes it mixed all the same (found by review).
    const partly = outcome.tx.branches.find((b) => b.partlyCommitted !== undefined)
    if (partly) throw new TmError('TM_HEURISTIC_MIXED', `transaction ${outcome.tx.gtrid} has a heuristic outcome: branch on "${partly.resource}": ${partly.partlyCommitted}`)
    return outcome
  }

  private async commitOnce(
    gtrid: string,
    localVotes: readonly LocalVoteInput[],
    waitFor: 'applied' | 'durable',
    begin?: BeginOptions,
    runClaim?: object,
  ): Promise<CommitOutcome> {
    const { known, observer } = this.deps
    // A transaction begun by its Commit needs no reaper (it is never ACTIVE
    // after this call), but it counts against the limits like any other: it
    // stays in progress until its local branches are reported committed, up
    // to transactions.localBranchGraceMs (found by review: one token could
    // hold thousands past its limit).
    const tx = begin === undefined ? known.require(gtrid) : known.requireOrBegin(gtrid, begin, { reaper: false })
    if (tx.runClaim !== undefined && tx.runClaim !== runClaim) await this.runEnded(tx, localVotes)
    if (tx.commitOutcome) return (await tx.commitOutcome) as CommitOutcome // a repeated Commit gets the same answer
    switch (tx.state) {
      case 'ACTIVE':
        break
      case 'ROLLING_BACK':
      case 'ROLLED_BACK':
        throw toldRolledBack(tx)
      case 'HEURISTIC':
        throw heuristicError(tx)
      case 'OUTCOME_UNKNOWN':
        throw new TmError('TM_OUTCOME_UNKNOWN', tx.abortReason ?? `transaction ${tx.gtrid} has an unknown outcome`)
      default:
        return { tx, commitLocally: [] } // recovered from the log: committing or committed
    }
    let announced: ReturnType<typeof checkLocalVotes>
    try {
      announced = checkLocalVotes(tx, localVotes, this.deps.resources, this.deps.maxBranches)
    } catch (error) {
      // Begun by this Commit (no reaper watches it): refused, it must not stay ACTIVE, holding a slot of the
      // node's and the caller's limits for ever. Rolled back; its caller rolls back its local branches.
      if (begin !== undefined && !reaped(tx)) {
        await this.deps.abort(tx, { reason: `its Commit was refused: ${error instanceof Error ? error.message : String(error)}` })
      }
      throw error
    }
    for (const vote of announced) tx.addBranch(vote.resource!, xidFromParts(ARBITER_FORMAT_ID, Buffer.from(tx.gtrid), vote.bqual), 'local')
    if (Date.now() > tx.deadline) {
      await this.deps.abort(tx, { reason: 'deadline exceeded before commit', retryable: true })
      throw abortedError(tx)
    }
    if (known.batchUnderWay(tx.gtrid)) {
      // Committing now would commit only the statements of the batch that ran so far (KnownTransactions.inBatch).
      await this.deps.abort(tx, { reason: 'an ExecuteBatch in it had not finished when the Commit began: committing would commit part of the batch', retryable: true })
      throw abortedError(tx)
    }
    tx.state = 'PREPARING'
    tx.touch()
    clearTimeout(tx.deadlineTimer)
    tx.deadlineTimer = undefined
    tx.commitOutcome = runCommit(this.deps.protocol, tx, localVotes, waitFor)
    try {
      const outcome = (await tx.commitOutcome) as CommitOutcome
      observer?.commitAnswered(tx)
      return outcome
    } catch (error) {
      if (error instanceof TmError && error.code === 'TM_OUTCOME_UNKNOWN') observer?.finished(tx, 'unknown')
      throw error
    } finally {
      if ((tx.state as TxState) === 'ROLLED_BACK') {
        this.deps.onRolledBack?.(tx)
        observer?.finished(tx, 'rolled_back')
      } else if ((tx.state as TxState) === 'HEURISTIC' && tx.escaped !== undefined) {
        observer?.heuristic(tx)
      }
    }
  }

  /**
   * A Commit of a transaction a Run claimed (Transaction.runClaim): the Run
   * commits it itself once its statements ran, so this Commit waits for the
   * Run and answers with its outcome, as a repeated Commit does with the
   * first one's. Committing it now would commit only the statements that ran
   * so far (found by hostile testing). Local votes cannot join it: their
   * branches were never part of it.
   */
  private async runEnded(tx: Transaction, localVotes: readonly LocalVoteInput[]): Promise<void> {
    if (localVotes.length > 0) throw runsElsewhere(tx)
    await tx.runOutcome?.catch(() => undefined)
    // Ended without its commit (refused before it): still the Run's, and never committed by another request.
    if (tx.state === 'ACTIVE' && !tx.commitOutcome) throw runsElsewhere(tx)
  }

  /** The application committed these local branches itself: phase 2 need not. */
  completeLocal(gtrid: string, bquals: readonly Buffer[]): void {
    const tx = this.deps.known.require(gtrid)
    for (const bqual of bquals) {
      const branch = tx.branches.find((b) => b.mode === 'local' && b.xid.bqual.equals(bqual))
      if (!branch) throw new TmError('TM_INVALID_ARGUMENT', `no local branch "${bqual.toString()}" in ${gtrid}`)
      if (tx.state !== 'COMMITTING' && tx.state !== 'COMMITTED') throw stateError(tx, 'complete local branches of')
      branch.reportedDone = true
      branch.wake?.()
    }
  }
}

/** What a caller asking for the outcome of a HEURISTIC transaction hears (never a success with state HEURISTIC). */
export function heuristicError(tx: Transaction): TmError {
  return new TmError('TM_HEURISTIC_MIXED', `transaction ${tx.gtrid} has a heuristic outcome: ${tx.abortReason ?? 'resolved by an operator'}`)
}

/** Whether the deadline reaper watches `tx` (a transaction begun by its Commit is not watched). */
function reaped(tx: Transaction): boolean {
  return tx.deadlineTimer !== undefined
}
