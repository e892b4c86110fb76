// client.transaction(): Begin (or name the transaction here, see
// transaction-namer.ts), run the callback, Commit when it returns,
// Rollback when it throws (rethrowing the callback's own error), and retry
// the whole thing on a retryable abort when the caller asked for it.
import { noteGtrid } from './tracing.js'
import { backoffDelay, sleep } from './backoff.js'
import { commitTransaction, mixedOutcome, rollbackTransaction } from './commit.js'
import { OutcomeUnknownError, TransactionAbortedError, UnavailableError } from './errors.js'
import type { BeginRequest } from '../proto/gen/arbiter/v1/BeginRequest.js'
import type { BeginResponse__Output } from '../proto/gen/arbiter/v1/BeginResponse.js'
import {
  DEFAULT_RETRY_BASE_DELAY_MS,
  DEFAULT_RETRY_MAX_DELAY_MS,
  checkTransactionOptions,
  type ResolvedClientOptions,
  type TransactionOptions,
} from './options.js'
import { TransactionHandle, type Transaction } from './transaction.js'
import type { RpcCallOptions, TmRpc } from './tm-rpc.js'
import { unanswered, type NodeSet } from './node-set.js'

/** @internal Runs `once` and, when options.retry says so, again after a retryable TransactionAbortedError. */
export async function withRetry<T>(options: TransactionOptions, once: () => Promise<T>): Promise<T> {
  const attempts = options.retry?.attempts ?? 1
  const base = options.retry?.baseDelayMs ?? DEFAULT_RETRY_BASE_DELAY_MS
  const max = options.retry?.maxDelayMs ?? DEFAULT_RETRY_MAX_DELAY_MS
  for (let attempt = 1; ; attempt++) {
    try {
      return await once()
    } catch (error) {
      const retry = error instanceof TransactionAbortedError && error.retryable && attempt < attempts && !options.signal?.aborted
      if (!retry) throw error
      await sleep(backoffDelay(attempt, base, max), options.signal)
    }
  }
}

/** In a cluster, one Begin attempt waits at most a third of the patience, within these bounds, before the next node is tried. */
const BEGIN_ATTEMPT_MIN_MS = 1000
const BEGIN_ATTEMPT_MAX_MS = 5000

/**
 * Begin, again while the TM is unreachable or draining (a graceful stop, a
 * restart), for up to `patienceMs`: a Begin does nothing but name a
 * transaction, so trying again is safe, and a restart then costs the caller
 * latency instead of an error. The answer of a Begin that was lost leaves an
 * unused transaction, which its deadline ends. In a cluster each attempt
 * waits a third of the patience (1 to 5 s) and a Begin not answered in that
 * time (a frozen node) goes to the next node too. @internal
 */
export async function beginPatiently(
  nodes: NodeSet,
  first: TmRpc,
  request: BeginRequest,
  signal: AbortSignal | undefined,
  patienceMs: number,
): Promise<{ response: BeginResponse__Output; rpc: TmRpc }> {
  const until = Date.now() + patienceMs
  const attemptMs = nodes.single ? Infinity : Math.min(BEGIN_ATTEMPT_MAX_MS, Math.max(BEGIN_ATTEMPT_MIN_MS, patienceMs / 3))
  let rpc = first
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await rpc.begin(request, { signal, deadlineMs: Math.max(1, Math.min(attemptMs, until - Date.now())) })
      nodes.succeeded(rpc)
      return { response, rpc }
    } catch (error) {
      // No answer in time (not the TM's own answer): in a cluster, as unreachable (a Begin only names a transaction).
      const late = !nodes.single && !(error instanceof UnavailableError) && unanswered(error)
      if (!(error instanceof UnavailableError || late) || signal?.aborted) throw error
      if (Date.now() >= until) {
        // A Begin commits nothing: the caller learns that no node could be reached, not an unknown outcome.
        throw late ? new UnavailableError(`no node answered Begin within ${patienceMs} ms: ${(error as Error).message}`, { cause: error }) : error
      }
      // In a cluster, the next node (a Begin ran nowhere, or only named an unused transaction there).
      nodes.failed(rpc)
      rpc = nodes.pick()
      await sleep(Math.min(backoffDelay(attempt, 50, 250), Math.max(0, until - Date.now())), signal)
    }
  }
}

/** The callback's promise, or the signal's reason as soon as it aborts (the callback is then abandoned). */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work
  work.catch(() => undefined) // an abandoned callback must not become an unhandled rejection
  let onAbort: (() => void) | undefined
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason as Error)
    if (signal.aborted) onAbort()
    else signal.addEventListener('abort', onAbort, { once: true })
  })
  return Promise.race([work, aborted]).finally(() => signal.removeEventListener('abort', onAbort!))
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error)
}

async function attempt<T>(
  nodes: NodeSet,
  fn: (tx: Transaction) => Promise<T> | T,
  options: TransactionOptions,
  client: ResolvedClientOptions,
): Promise<T> {
  const signal = options.signal
  signal?.throwIfAborted()
  const labels = { ...options.labels }
  let rpc = nodes.pick()
  // Begin rides on the transaction's first request when the client knows the TM well enough to name it.
  const named = rpc.nameTransaction(options.timeoutMs, labels)
  let handle: TransactionHandle
  if (named) handle = new TransactionHandle(rpc, named.gtrid, named.deadline, named.begin)
  else {
    const begun = await beginPatiently(nodes, rpc, { timeoutMs: options.timeoutMs ?? 0, labels }, signal, client.defaultDeadlineMs)
    rpc = begun.rpc
    handle = new TransactionHandle(rpc, begun.response.gtrid, new Date(Number(begun.response.deadlineUnixMs)))
  }
  nodes.learn(handle.gtrid, rpc)
  noteGtrid(handle.gtrid)
  try {
    let value: T
    try {
      value = await untilAborted(
        Promise.resolve().then(() => fn(handle)),
        signal,
      )
      signal?.throwIfAborted()
    } catch (error) {
      const cancelled = signal?.aborted === true
      handle.close(cancelled ? signal.reason : error)
      const reason = cancelled ? `cancelled by the application: ${describe(signal.reason)}` : `the application's callback failed: ${describe(error)}`
      if (unanswered(error)) nodes.failed(rpc)
      const escaped = await rollbackTransaction(rpc, handle, reason, client.defaultDeadlineMs, { callbackMayStillRun: cancelled })
      // The callback failed after it ended a local branch itself: what that branch did stays, the rest rolled back.
      if (escaped !== undefined) throw mixedOutcome(handle.gtrid, escaped, error)
      throw cancelled ? (signal.reason as Error) : error
    }
    handle.close()
    await commitTransaction(rpc, handle, {
      waitFor: options.waitFor ?? 'applied',
      outcomeQueryAttempts: client.outcomeQueryAttempts,
      defaultDeadlineMs: client.defaultDeadlineMs,
      // In a cluster the outcome of a transaction whose node went away is asked of the others too.
      ...(!nodes.single && { askOutcome: (gtrid: string, o: RpcCallOptions) => nodes.getTransaction(gtrid, o) }),
    }).catch((error: unknown) => {
      if (error instanceof UnavailableError || error instanceof OutcomeUnknownError) nodes.failed(rpc)
      throw error
    })
    nodes.succeeded(rpc)
    return value
  } finally {
    handle.local.releaseAll()
  }
}

/** @internal The body of client.transaction(). */
export async function runTransaction<T>(
  nodes: NodeSet,
  fn: (tx: Transaction) => Promise<T> | T,
  options: TransactionOptions,
  client: ResolvedClientOptions,
): Promise<T> {
  checkTransactionOptions(options)
  return withRetry(options, () => attempt(nodes, fn, options, client))
}
