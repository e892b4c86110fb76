// client.run(): Begin, statements and Commit in one Run call, named by the
// client so that it is as safe as transaction(). The name (a gtrid the client
// chose, or one a Begin gave it when the client does not know the TM yet)
// makes the call idempotent: when its answer is lost the client sends the
// same Run again and the TM answers the first run's outcome instead of
// running it twice. An error that may have come after the commit point is
// never reported as "not run": it ends as OutcomeUnknownError with the gtrid
// to ask about.
import { backoffDelay, sleep } from './backoff.js'
import { OutcomeUnknownError, fromGrpcError, isTmAnswer, type ArbiterError } from './errors.js'
import type { ResolvedClientOptions, TransactionOptions } from './options.js'
import type { RunRequest } from '../proto/gen/arbiter/v1/RunRequest.js'
import type { RunResponse__Output } from '../proto/gen/arbiter/v1/RunResponse.js'
import type { Statement } from '../proto/gen/arbiter/v1/Statement.js'
import type { TmRpc } from './tm-rpc.js'
import { unanswered, type NodeSet } from './node-set.js'
import { beginPatiently } from './transaction-runner.js'
import { noteGtrid } from './tracing.js'

/** The TM's answer to a Run, and whether its results were dropped (a repeat whose first results were not kept). */
export type RunAnswer = RunResponse__Output

/**
 * A Run that certainly did not run: never sent, refused unrun by a closing
 * session, or answered by the TM itself with anything but "I do not know"
 * (a statement failed or was refused, a limit, auth: the TM rolled back or
 * began nothing).
 */
function notRun(error: ArbiterError): boolean {
  if (error.metadata.notSent === 'true' || error.metadata.sessionClosing === 'true') return true
  return isTmAnswer(error) && error.code !== 'TM_OUTCOME_UNKNOWN' && error.code !== 'TM_INTERNAL'
}

/** What a repeat of a Run whose first answer was lost learned: an answer, or nothing yet. */
type Repeat = { readonly kind: 'answer'; readonly response: RunAnswer } | { readonly kind: 'outcome'; readonly error: ArbiterError } | { readonly kind: 'nothing'; readonly error: ArbiterError }

function unknown(gtrid: string, why: string, cause: unknown): OutcomeUnknownError {
  return new OutcomeUnknownError(`run() ${why}: transaction ${gtrid} may have committed; ask client.getTransaction('${gtrid}')`, {
    cause,
    metadata: { gtrid },
  })
}

async function repeat(rpc: TmRpc, request: RunRequest, deadlineMs: number): Promise<Repeat> {
  try {
    return { kind: 'answer', response: await rpc.run(request, { deadlineMs }) }
  } catch (caught) {
    const error = fromGrpcError(caught)
    if (!isTmAnswer(error)) return { kind: 'nothing', error }
    switch (error.code) {
      // The TM does not know it (it restarted, or forgot it): a one-phase commit leaves no record, so this is no answer.
      case 'TM_TX_NOT_FOUND':
        return { kind: 'outcome', error: unknown(request.gtrid!, 'was sent again to a TM that no longer knows it', error) }
      case 'TM_TX_ABORTED':
        if (error.metadata.beginRefused === 'true') {
          return { kind: 'outcome', error: unknown(request.gtrid!, `was sent again and the TM would not take it up (${error.message})`, error) }
        }
        return { kind: 'outcome', error }
      case 'TM_OUTCOME_UNKNOWN':
      case 'TM_INTERNAL':
        return { kind: 'outcome', error: unknown(request.gtrid!, `was sent again and the TM could not say (${error.message})`, error) }
      // Refused before the TM looked it up (load, a draining node): ask again.
      // Or asked of a node that does not hold it while its node may still decide it: ask that node again.
      case 'TM_OVERLOADED':
      case 'TM_RM_UNAVAILABLE':
      case 'TM_WRONG_NODE':
        return { kind: 'nothing', error }
      default:
        // The first run's own answer (a refusal, a heuristic outcome): the same for every repeat.
        return { kind: 'outcome', error }
    }
  }
}

/** Sends the Run, and again with the same name while its outcome is not known. */
export async function runNamed(
  nodes: NodeSet,
  statements: Statement[],
  options: TransactionOptions,
  client: ResolvedClientOptions,
): Promise<RunAnswer> {
  const signal = options.signal
  signal?.throwIfAborted() // not sent: nothing happened
  const labels = { ...options.labels }
  const body = {
    timeoutMs: options.timeoutMs ?? 0,
    labels,
    statements,
    waitFor: options.waitFor === 'durable' ? ('WAIT_FOR_DURABLE' as const) : ('WAIT_FOR_APPLIED' as const),
  }
  let rpc = nodes.pick()
  /** Nodes that did not take the Run in (not sent): in a cluster, the next node is asked, each at most once. */
  let hops = 1
  // Named here when the client knows the TM (no extra round trip); else a Begin names it.
  for (let naming = 1; ; naming++) {
    const named = naming === 1 ? rpc.nameTransaction(options.timeoutMs, labels) : undefined
    let gtrid = named?.gtrid
    if (gtrid === undefined) {
      const begun = await beginPatiently(nodes, rpc, { timeoutMs: body.timeoutMs, labels }, signal, client.defaultDeadlineMs)
      rpc = begun.rpc
      gtrid = begun.response.gtrid
    }
    nodes.learn(gtrid, rpc)
    noteGtrid(gtrid)
    const request: RunRequest = { ...body, gtrid, tmInstance: named?.begin.tmInstance ?? '' }
    let first: ArbiterError
    try {
      const answer = await rpc.run(request, { signal })
      nodes.succeeded(rpc)
      return answer
    } catch (caught) {
      // Sent, then cancelled: the TM goes on and may commit.
      if (signal?.aborted === true && caught === signal.reason) throw unknown(gtrid, 'was cancelled after its request was sent', caught)
      first = fromGrpcError(caught)
    }
    if (unanswered(first)) nodes.failed(rpc)
    if (notRun(first)) {
      // A TM that would not begin the name chosen here (it restarted, another node), or that lost the
      // transaction its Begin named (it restarted in between): nothing ran; a (new) Begin names it.
      if (naming === 1 && (first.metadata.beginRefused === 'true' || first.code === 'TM_TX_NOT_FOUND')) continue
      // Never taken in by its node (a frozen or unreachable node never opened the session): in a cluster
      // nothing ran anywhere, so it goes to another node under a new name. Never a Run that may have run.
      if (first.metadata.notSent === 'true' && !nodes.single && hops < nodes.addresses().length && signal?.aborted !== true) {
        const next = nodes.pick()
        if (next !== rpc) {
          hops++
          rpc = next
          naming = 0
          continue
        }
      }
      throw first
    }
    return resolve(nodes.repeatOrder(rpc), request, first, client)
  }
}

/**
 * The first answer was lost: the same Run again, until a node answers it or
 * the attempts run out. Each attempt asks the Run's node, then (in a
 * cluster) the others: once its node died and was taken over, or decided it,
 * any node answers from the shared store; while its node may still decide
 * it, the others answer TM_WRONG_NODE (no answer: ask again).
 */
async function resolve(order: readonly TmRpc[], request: RunRequest, first: ArbiterError, client: ResolvedClientOptions): Promise<RunAnswer> {
  let last = first
  for (let attempt = 1; attempt <= client.outcomeQueryAttempts; attempt++) {
    await sleep(backoffDelay(attempt, 200, 3_200))
    for (const rpc of order) {
      const again = await repeat(rpc, request, client.defaultDeadlineMs)
      if (again.kind === 'answer') return again.response
      if (again.kind === 'outcome') throw again.error
      last = again.error
    }
  }
  throw unknown(request.gtrid!, `got no answer (${first.message}; last: ${last.message})`, last)
}
