// Committing a transaction from the client's side: prepare the local
// branches, ask the TM to commit, then finish the local branches the way the
// decision says. When the Commit's answer is lost (TM unreachable, deadline)
// the client asks the TM again before it gives up: a local branch must never
// be committed or rolled back against the TM's decision. If the TM stays
// unreachable, the client destroys the connections of its prepared branches
// (so a MariaDB branch detaches) and leaves them to the TM's recovery.
import type { CommitRequest } from '../proto/gen/arbiter/v1/CommitRequest.js'
import { backoffDelay, sleep } from './backoff.js'
import {
  HeuristicOutcomeError,
  OutcomeUnknownError,
  TransactionAbortedError,
  fromGrpcError,
  type ArbiterError,
} from './errors.js'
import type { WaitFor } from './options.js'
import type { TransactionHandle } from './transaction.js'
import type { RpcCallOptions, TmRpc } from './tm-rpc.js'
import type { Transaction__Output } from '../proto/gen/arbiter/v1/Transaction.js'

type Answer =
  | { readonly kind: 'committed' }
  /** Definitely not committed: aborted, or unknown to the TM (presumed abort). */
  | { readonly kind: 'rolled-back'; readonly error: ArbiterError }
  /** The TM refused the request before deciding (bad input, auth): nothing was committed. */
  | { readonly kind: 'refused'; readonly error: ArbiterError }
  | { readonly kind: 'heuristic'; readonly error: ArbiterError }
  | { readonly kind: 'unknown'; readonly error: ArbiterError }

/** @internal Settings of the commit step. */
export interface CommitSettings {
  readonly waitFor: WaitFor
  readonly outcomeQueryAttempts: number
  readonly defaultDeadlineMs: number
  /** How to ask what became of the transaction (default: its node; in a cluster, the others too: node-set.ts). */
  readonly askOutcome?: (gtrid: string, o: RpcCallOptions) => Promise<Transaction__Output>
}

function classify(error: ArbiterError): Answer {
  switch (error.code) {
    case 'TM_TX_ABORTED':
    case 'TM_TX_NOT_FOUND':
      return { kind: 'rolled-back', error }
    case 'TM_HEURISTIC_MIXED':
      return { kind: 'heuristic', error }
    case 'TM_INVALID_ARGUMENT':
    case 'TM_ILLEGAL_STATE':
    case 'TM_UNAUTHENTICATED':
    case 'TM_PERMISSION_DENIED':
      return { kind: 'refused', error }
    default:
      // OUTCOME_UNKNOWN, UNAVAILABLE, OVERLOADED, INTERNAL, a lost connection: the TM may have decided.
      return { kind: 'unknown', error }
  }
}

async function sendCommit(rpc: TmRpc, request: CommitRequest): Promise<Answer> {
  try {
    await rpc.commit(request)
    return { kind: 'committed' }
  } catch (error) {
    return classify(fromGrpcError(error))
  }
}

/**
 * A Commit the TM refused before running it (its session was closing: the TM
 * drains them only once no transaction is left active), or that never left
 * this process. When it was the first Commit of the transaction, nothing can
 * have committed it: only a Commit commits.
 */
function wasNotRun(error: ArbiterError): boolean {
  return error.metadata.sessionClosing === 'true' || error.metadata.notSent === 'true'
}

/** Asks the TM what became of the transaction; re-sends the (idempotent) Commit while it is still undecided. */
async function resolveOutcome(
  rpc: TmRpc,
  request: CommitRequest,
  first: ArbiterError,
  settings: CommitSettings,
  /** Local branches were prepared: their phase 2 is this client's, so COMMITTING is the answer to act on. */
  localBranches: boolean,
): Promise<Answer> {
  const gtrid = request.gtrid!
  const queryDeadlineMs = Math.min(settings.defaultDeadlineMs, 5_000)
  let last = first
  for (let attempt = 1; attempt <= settings.outcomeQueryAttempts; attempt++) {
    await sleep(backoffDelay(attempt, 200, 3_200))
    let state: string
    let abortReason: string
    try {
      const tx = settings.askOutcome
        ? await settings.askOutcome(gtrid, { deadlineMs: queryDeadlineMs })
        : await rpc.getTransaction({ gtrid }, { deadlineMs: queryDeadlineMs })
      state = tx.state
      abortReason = tx.abortReason
    } catch (error) {
      const e = fromGrpcError(error)
      // After a lost Commit answer, "unknown to the TM" is not "rolled back":
      // a transaction with one writing branch commits in one phase with no
      // log record, so a TM that died after sending that COMMIT, or forgot
      // the transaction since, cannot tell. (Presumed abort covers only
      // two-phase transactions.) It will not change: stop asking.
      if (e.code === 'TM_TX_NOT_FOUND') return { kind: 'unknown', error: e }
      last = e
      continue
    }
    switch (state) {
      case 'TRANSACTION_STATE_COMMITTING':
        // Decided, phase 2 under way: 'applied' waits for the TM's, as its Commit would have (found by hostile
        // testing: the caller went on before its rows were visible), unless this client has local branches to
        // commit itself. Once the questions run out, committed is still true.
        if (settings.waitFor === 'applied' && !localBranches && attempt < settings.outcomeQueryAttempts) continue
        return { kind: 'committed' }
      case 'TRANSACTION_STATE_COMMITTED':
        return { kind: 'committed' }
      case 'TRANSACTION_STATE_ROLLING_BACK':
      case 'TRANSACTION_STATE_ROLLED_BACK':
        // The wire's Transaction does not say whether a retry may help: assume not.
        return {
          kind: 'rolled-back',
          error: new TransactionAbortedError(`transaction ${gtrid} rolled back: ${abortReason || 'rolled back'}`, {
            metadata: { gtrid, retryable: 'false' },
          }),
        }
      case 'TRANSACTION_STATE_HEURISTIC':
        return { kind: 'heuristic', error: new HeuristicOutcomeError(`transaction ${gtrid} has a heuristic outcome: ${abortReason}`, { metadata: { gtrid } }) }
      case 'TRANSACTION_STATE_OUTCOME_UNKNOWN':
        // The TM itself does not know (a one-phase COMMIT lost its connection), and never will: stop asking.
        return { kind: 'unknown', error: new OutcomeUnknownError(`transaction ${gtrid} has an unknown outcome: ${abortReason}`, { metadata: { gtrid } }) }
      default: {
        // ACTIVE (our Commit never arrived) or PREPARING (it is running): Commit again; a repeat gets the same answer.
        const again = await sendCommit(rpc, request)
        // The TM knew it a moment ago; not knowing it now means it restarted: unknown, as above.
        if (again.kind === 'rolled-back' && again.error.code === 'TM_TX_NOT_FOUND') return { kind: 'unknown', error: again.error }
        if (again.kind !== 'unknown') return again
        last = again.error
      }
    }
  }
  return { kind: 'unknown', error: last }
}

async function rollbackQuietly(rpc: TmRpc, gtrid: string, reason: string, deadlineMs: number): Promise<void> {
  try {
    await rpc.rollback({ gtrid, reason: reason.slice(0, 500) }, { deadlineMs })
  } catch {
    // The TM's reaper rolls back what it does not hear about.
  }
}

/**
 * @internal Rolls the transaction back at the TM (if it ever heard of it) and
 * on every local connection. Never throws. Returns why, when a local branch
 * had been ended by the application itself (LocalBranches.rollbackAll): the
 * outcome is then mixed, not rolled back (mixedOutcome).
 */
export async function rollbackTransaction(
  rpc: TmRpc,
  handle: TransactionHandle,
  reason: string,
  deadlineMs: number,
  options: { readonly callbackMayStillRun?: boolean } = {},
): Promise<string | undefined> {
  const atTm = handle.contactedTm ? rollbackQuietly(rpc, handle.gtrid, reason, deadlineMs) : undefined
  // An abandoned (cancelled) callback may still use the connections: end them rather than roll back under it.
  const [, escaped] = await Promise.all([atTm, options.callbackMayStillRun === true ? handle.local.destroyAll() : handle.local.rollbackAll(deadlineMs)])
  return escaped ?? undefined
}

/** @internal What a transaction whose local branch the application ended itself is told instead of "rolled back". */
export function mixedOutcome(gtrid: string, escaped: string, cause?: unknown): HeuristicOutcomeError {
  return new HeuristicOutcomeError(`transaction ${gtrid} has a mixed outcome: ${escaped}. Do not retry: check that resource`, {
    metadata: { gtrid },
    ...(cause !== undefined && { cause }),
  })
}

/** @internal Commits the transaction; throws a typed error when it did not (or may not have) committed. */
export async function commitTransaction(rpc: TmRpc, handle: TransactionHandle, settings: CommitSettings): Promise<void> {
  const gtrid = handle.gtrid
  const local = handle.local
  // Bounded so a stalled server cannot hold the caller forever; one RPC deadline
  // past the transaction's leaves room for clock skew between here and the TM.
  const prepared = await local.prepareAll(handle.deadline.getTime() + settings.defaultDeadlineMs)
  if (!prepared.ok) {
    const escapedAtRollback = await rollbackTransaction(rpc, handle, prepared.reason, settings.defaultDeadlineMs)
    const escaped = prepared.escaped ?? escapedAtRollback
    // Found by hostile testing: told "rolled back" (not retryable) while its COMMIT had committed the debit.
    if (escaped !== undefined) throw mixedOutcome(gtrid, escaped)
    throw new TransactionAbortedError(`transaction ${gtrid} rolled back: ${prepared.reason}`, {
      metadata: { gtrid, retryable: String(prepared.retryable) },
    })
  }
  const request: CommitRequest = {
    gtrid,
    // Its driver's kind: a connection to another kind of database than the resource's is refused before any decision.
    localVotes: prepared.votes.map((v) => ({ bqual: v.bqual, readOnly: v.readOnly, resource: v.resource, kind: v.kind, identity: v.identity })),
    waitFor: settings.waitFor === 'durable' ? 'WAIT_FOR_DURABLE' : 'WAIT_FOR_APPLIED',
    // Only local branches (or nothing) so far: the transaction begins and commits in this one request.
    begin: handle.pendingBegin,
  }
  handle.contactedTm = true
  let answer = await sendCommit(rpc, request)
  if (answer.kind === 'unknown' && wasNotRun(answer.error)) {
    answer = {
      kind: 'refused', // rolled back here and, if it still knows the transaction, at the TM
      error: new TransactionAbortedError(`transaction ${gtrid} was not committed: its Commit was refused before it ran (${answer.error.message})`, {
        metadata: { gtrid, retryable: 'true' },
        cause: answer.error,
      }),
    }
  }
  if (answer.kind === 'unknown') answer = await resolveOutcome(rpc, request, answer.error, settings, prepared.votes.length > 0)
  switch (answer.kind) {
    case 'committed': {
      const done = await local.commitPrepared(settings.defaultDeadlineMs)
      // Best effort, not awaited, sent with others: it only spares the TM
      // its redundant commit after the grace period.
      if (done.length > 0) rpc.reportCommittedLocal(gtrid, done)
      return
    }
    case 'rolled-back': {
      const escaped = await local.rollbackAll(settings.defaultDeadlineMs)
      throw escaped === undefined ? answer.error : mixedOutcome(gtrid, escaped, answer.error)
    }
    case 'refused': {
      const escaped = await rollbackTransaction(rpc, handle, `commit refused: ${answer.error.message}`, settings.defaultDeadlineMs)
      throw escaped === undefined ? answer.error : mixedOutcome(gtrid, escaped, answer.error)
    }
    case 'heuristic':
      await local.abandonPrepared()
      throw answer.error
    case 'unknown':
      await local.abandonPrepared()
      throw new OutcomeUnknownError(
        `the outcome of transaction ${gtrid} is unknown (the TM did not answer: ${answer.error.message}); ` +
          'its prepared local branches were left to the TM, which finishes them; ask getTransaction() later',
        { metadata: { gtrid }, cause: answer.error },
      )
  }
}
