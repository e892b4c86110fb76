// arbiter.v1.TransactionManager: validates each request and hands it to the
// coordinator. The operations are plain async functions, served both as unary
// calls and multiplexed on the Session stream (serve-operations.ts); the
// statements they carry go through statement-requests.ts.
import type { Coordinator } from '../coordinator/coordinator.js'
import type { BeginOptions } from '../coordinator/coordinator-config.js'
import { heuristicError } from '../coordinator/commit-requests.js'
import { TmError } from '../../proto/errors.js'
import type { TransactionManagerHandlers } from '../../proto/gen/arbiter/v1/TransactionManager.js'
import { WaitFor } from '../../proto/gen/arbiter/v1/WaitFor.js'
import type { BeginRequest__Output } from '../../proto/gen/arbiter/v1/BeginRequest.js'
import type { BeginResponse } from '../../proto/gen/arbiter/v1/BeginResponse.js'
import type { ExecuteRequest__Output } from '../../proto/gen/arbiter/v1/ExecuteRequest.js'
import type { ExecuteResponse } from '../../proto/gen/arbiter/v1/ExecuteResponse.js'
import type { ExecuteBatchRequest__Output } from '../../proto/gen/arbiter/v1/ExecuteBatchRequest.js'
import type { ExecuteBatchResponse } from '../../proto/gen/arbiter/v1/ExecuteBatchResponse.js'
import type { EnlistRequest__Output } from '../../proto/gen/arbiter/v1/EnlistRequest.js'
import type { EnlistResponse } from '../../proto/gen/arbiter/v1/EnlistResponse.js'
import type { CommitRequest__Output } from '../../proto/gen/arbiter/v1/CommitRequest.js'
import type { CommitResponse } from '../../proto/gen/arbiter/v1/CommitResponse.js'
import type { CompleteLocalBranchesRequest__Output } from '../../proto/gen/arbiter/v1/CompleteLocalBranchesRequest.js'
import type { CompleteLocalBranchesResponse } from '../../proto/gen/arbiter/v1/CompleteLocalBranchesResponse.js'
import type { RollbackRequest__Output } from '../../proto/gen/arbiter/v1/RollbackRequest.js'
import type { RollbackResponse } from '../../proto/gen/arbiter/v1/RollbackResponse.js'
import type { GetTransactionRequest__Output } from '../../proto/gen/arbiter/v1/GetTransactionRequest.js'
import type { Transaction } from '../../proto/gen/arbiter/v1/Transaction.js'
import type { RunRequest__Output } from '../../proto/gen/arbiter/v1/RunRequest.js'
import type { RunResponse } from '../../proto/gen/arbiter/v1/RunResponse.js'
import type { Logger } from '../logger.js'
import type { SessionRequestObserver } from '../metrics/session-request-metrics.js'
import type { SessionRegistry } from './session-stream.js'
import { toWireTransaction, toWireXid } from './transaction-view.js'
import { enumField } from './enum-fields.js'
import { listMembersHandler, type MembersSource } from './list-members.js'
import { KeptResults } from './kept-results.js'
import { encodedSizeBound } from '../../proto/message-batcher.js'
import { serveOperations, type SessionLimits } from './serve-operations.js'
import { StatementRequests, type DecodedStatement } from './statement-requests.js'
import type { ResultSet } from '../../proto/gen/arbiter/v1/ResultSet.js'
import { repeatOf, runDigest } from './run-repeats.js'
import { runsElsewhere } from '../coordinator/known-transactions.js'
import { keptReason } from './reason-field.js'

/**
 * Every TransactionManager call but Session, keyed by its name in
 * SessionRequest's oneof. `caller` is the token's name (undefined with auth
 * off): the calls that can begin a transaction count it against that
 * caller's limits (coordinator/caller-limits.ts). `clientMaxReceive` is what
 * the client announced it receives in one message (answer-size.ts).
 */
export interface TransactionManagerOperations {
  begin(req: BeginRequest__Output, caller?: string): BeginResponse
  execute(req: ExecuteRequest__Output, caller?: string, clientMaxReceive?: number): Promise<ExecuteResponse>
  executeBatch(req: ExecuteBatchRequest__Output, caller?: string, clientMaxReceive?: number): Promise<ExecuteBatchResponse>
  enlist(req: EnlistRequest__Output, caller?: string): Promise<EnlistResponse>
  commit(req: CommitRequest__Output, caller?: string): Promise<CommitResponse>
  completeLocalBranches(req: CompleteLocalBranchesRequest__Output, caller?: string): CompleteLocalBranchesResponse
  rollback(req: RollbackRequest__Output, caller?: string): Promise<RollbackResponse>
  getTransaction(req: GetTransactionRequest__Output, caller?: string): Promise<Transaction>
  run(req: RunRequest__Output, caller?: string, clientMaxReceive?: number): Promise<RunResponse>
}

export function transactionManagerOperations(coordinator: Coordinator, maxMessageBytes = 8 * 1024 * 1024): TransactionManagerOperations {
  const keptResults = new KeptResults()
  const statements = new StatementRequests(coordinator, maxMessageBytes)

  /** The answer to a Run naming a transaction known here or in the log without running it (run-repeats.ts); undefined: run it. */
  async function repeatAnswer(gtrid: string, digest: string, wait: 'applied' | 'durable'): Promise<RunResponse | undefined> {
    const known = coordinator.find(gtrid)
    if (known) {
      const repeat = repeatOf(known, digest)
      if (repeat === 'repeat') return (await known.runOutcome) as RunResponse
      if (repeat === 'adopted') {
        // Its outcome as a repeated Commit would get it, without results.
        const ended = await coordinator.commit(gtrid, [], wait)
        return { transaction: toWireTransaction(ended.tx), results: [], resultsDropped: true }
      }
      return undefined
    }
    const logged = coordinator.fromLog(gtrid)
    // A mixed outcome is an error, as a Commit hears it: a client reading only the status took OK for committed.
    if (logged?.state === 'HEURISTIC') throw heuristicError(logged)
    return logged && { transaction: toWireTransaction(logged), results: [], resultsDropped: true }
  }

  /** An ExecuteBatch's statements, in order: all or nothing for the transaction. */
  async function runBatch(gtrid: string, decoded: readonly DecodedStatement[], begin: BeginOptions | undefined): Promise<ResultSet[]> {
    const n = decoded.length
    const results: ResultSet[] = []
    for (const [i, statement] of decoded.entries()) {
      try {
        results.push(await statements.run(gtrid, statement, i === 0 ? begin : undefined))
      } catch (error) {
        // The caller cannot tell which statements ran: the batch is all or nothing for the transaction. Unless it
        // is a Run's: then none of them ran in it, and the Run's transaction is not this batch's to roll back.
        if (coordinator.find(gtrid)?.runClaim === undefined) await statements.rollBackIfActive(gtrid, `statement ${i + 1} of ${n} of a batch was refused`)
        if (!(error instanceof TmError)) throw error
        throw new TmError(error.code, `statement ${i + 1} of ${n}: ${error.message}`, { metadata: { ...error.metadata }, cause: error })
      }
    }
    return results
  }

  /** Applies every completion report; the first that could not be applied, if any. */
  const applyReports = (reports: readonly { gtrid: string; committedBquals: Buffer[] }[], caller: string | undefined): { error: unknown } | undefined => {
    let failure: { error: unknown } | undefined
    for (const report of reports) {
      try {
        owned(report.gtrid, caller)
        coordinator.completeLocal(report.gtrid, report.committedBquals)
      } catch (error) {
        failure ??= { error }
      }
    }
    return failure
  }

  /**
   * With tokens, a transaction is its caller's: another token that learns its
   * gtrid (a log line, a label) may not run statements in it, end it, read
   * it or its kept Run results. Operators see every transaction through the
   * Admin service. Transactions rebuilt from the log after a restart carry
   * no caller (the log does not record it) and are not checked.
   */
  const owned = (gtrid: string, caller: string | undefined): void => {
    if (gtrid && coordinator.find(gtrid)?.usableBy(caller) === false) {
      throw new TmError('TM_PERMISSION_DENIED', `transaction ${gtrid} belongs to another caller: only the token that began it may use it (operators: the Admin service)`, {
        metadata: { gtrid },
      })
    }
  }

  return {
    begin(req, caller) {
      const tx = coordinator.begin({ timeoutMs: req.timeoutMs, labels: req.labels, caller })
      return {
        gtrid: tx.gtrid,
        deadlineUnixMs: String(tx.deadline),
        serverTimeUnixMs: String(Date.now()),
        defaultTimeoutMs: coordinator.defaultTimeoutMs,
        tmInstance: coordinator.instance,
      }
    },

    async execute(req, caller, clientMaxReceive) {
      owned(req.gtrid, caller)
      await coordinator.recall(req.gtrid, req.begin?.tmInstance)
      return statements.fitting(req.gtrid, 'Execute', { result: await statements.execute(req.gtrid, req.statement, beginOptions(req.begin, caller)) }, clientMaxReceive)
    },

    async executeBatch(req, caller, clientMaxReceive) {
      owned(req.gtrid, caller)
      const n = req.statements.length
      if (n === 0) throw new TmError('TM_INVALID_ARGUMENT', 'statements is empty')
      await coordinator.recall(req.gtrid, req.begin?.tmInstance)
      // Every statement is checked before the first runs: a refused one must not leave the others applied.
      const decoded = await statements.decodeAll(req.gtrid, req.statements)
      const begin = beginOptions(req.begin, caller)
      const results = await coordinator.inBatch(req.gtrid, () => runBatch(req.gtrid, decoded, begin))
      return statements.fitting(req.gtrid, 'ExecuteBatch', { results }, clientMaxReceive)
    },

    async enlist(req, caller) {
      owned(req.gtrid, caller)
      if (!req.resource) throw new TmError('TM_INVALID_ARGUMENT', 'resource is required')
      await coordinator.recall(req.gtrid)
      return { xid: toWireXid(coordinator.enlist(req.gtrid, req.resource)) }
    },

    async commit(req, caller) {
      owned(req.gtrid, caller)
      const wait = waitFor(req.waitFor) // a bad request changes nothing, reports included
      // Reports that rode along for other transactions: one that cannot be applied is theirs to lose, not this Commit's.
      applyReports(req.completedLocal, caller)
      const votes = req.localVotes.map((v) => ({ bqual: v.bqual, readOnly: v.readOnly, ...(v.resource && { resource: v.resource }), ...(v.kind && { kind: v.kind }), ...(v.identity && { identity: v.identity }) }))
      await coordinator.recall(req.gtrid, req.begin?.tmInstance)
      const outcome = await coordinator.commit(req.gtrid, votes, wait, beginOptions(req.begin, caller))
      return { transaction: toWireTransaction(outcome.tx), commitLocally: outcome.commitLocally.map(toWireXid) }
    },

    completeLocalBranches(req, caller) {
      const reports = req.gtrid === '' && req.committedBquals.length === 0 ? req.batch : [req, ...req.batch]
      if (reports.length === 0) throw new TmError('TM_INVALID_ARGUMENT', 'nothing to report: gtrid and batch are empty')
      // Every report is applied; the first that could not be is the answer.
      const failure = applyReports(reports, caller)
      if (failure) throw failure.error as Error
      return {}
    },

    async rollback(req, caller) {
      owned(req.gtrid, caller)
      await coordinator.recall(req.gtrid)
      return { transaction: toWireTransaction(await coordinator.rollback(req.gtrid, keptReason(req.reason))) }
    },

    async getTransaction(req, caller) {
      owned(req.gtrid, caller)
      await coordinator.recall(req.gtrid)
      return toWireTransaction(coordinator.get(req.gtrid))
    },

    async run(req, caller, clientMaxReceive) {
      owned(req.gtrid, caller)
      const wait = waitFor(req.waitFor) // before anything begins
      // A repeat is answered before its request is checked: what the TM accepts may have changed since the first.
      const digest = req.gtrid ? runDigest(req.statements) : undefined
      if (req.gtrid) {
        await coordinator.recall(req.gtrid, req.tmInstance)
        const answer = await repeatAnswer(req.gtrid, digest!, wait)
        if (answer) return answer
        if (!coordinator.find(req.gtrid)) {
          // Unknown here: one begun by Begin is NOT_FOUND, a client-named one that cannot begin here is refused, both
          // before its statements are judged by today's config (the first run may have committed one-phase, unrecorded).
          if (req.tmInstance) coordinator.checkNamedBegin(req.gtrid, req.tmInstance)
          else coordinator.get(req.gtrid)
        }
      }
      const n = req.statements.length
      if (n === 0) throw new TmError('TM_INVALID_ARGUMENT', 'statements is empty')
      // Checked whole before anything begins: a refused statement leaves nothing behind.
      const decoded = await statements.decodeAll(req.gtrid, req.statements)
      let tx
      if (req.gtrid) {
        // Named by the client: a repeat that came in while this one's statements were checked gets the first outcome.
        const answer = await repeatAnswer(req.gtrid, digest!, wait)
        if (answer) return answer
        const known = coordinator.find(req.gtrid)
        // Judged again, with nothing in between from here to the claim below: a request that came in while this
        // one awaited may have used the name (an Execute, a Commit, the same Run repeated).
        if (known && repeatOf(known, digest!) !== undefined) {
          const again = await repeatAnswer(req.gtrid, digest!, wait)
          if (again) return again
          throw runsElsewhere(known)
        }
        // Begun by Begin and no longer here (forgotten meanwhile): NOT_FOUND, never a new run.
        if (!known && !req.tmInstance) coordinator.get(req.gtrid)
        tx = known ?? coordinator.beginNamed(req.gtrid, { timeoutMs: req.timeoutMs, labels: req.labels, tmInstance: req.tmInstance, caller })
      } else {
        tx = coordinator.begin({ timeoutMs: req.timeoutMs, labels: req.labels, caller })
      }
      const gtrid = tx.gtrid
      // The transaction is this Run's from now on: only its statements run in it, and a Commit waits for its outcome.
      const claim = {}
      tx.runClaim = claim
      const outcome = (async (): Promise<RunResponse> => {
        const results = []
        try {
          for (const statement of decoded) results.push(await statements.run(gtrid, statement, undefined, claim))
        } catch (error) {
          await statements.rollBackIfActive(gtrid, 'a statement of Run failed or was refused')
          throw error
        }
        // Before the commit: afterwards a failed answer could only say "unknown".
        await statements.fitting(gtrid, 'Run', { transaction: toWireTransaction(tx), results }, clientMaxReceive, claim)
        const committed = await coordinator.commit(gtrid, [], wait, undefined, claim)
        return { transaction: toWireTransaction(committed.tx), results, resultsDropped: false }
      })()
      // Only a Run its caller named can be repeated: only its outcome is kept (the transaction itself keeps it
      // findable). Its results are kept for a repeat while the caller may still be asking, within a budget.
      if (req.gtrid) {
        tx.runOutcome = outcome
        tx.runDigest = digest
        outcome.then(
          (response) => {
            const dropped = Promise.resolve({ ...response, results: [], resultsDropped: true })
            if (!keptResults.take(encodedSizeBound(response.results), () => (tx.runOutcome = dropped))) tx.runOutcome = dropped
          },
          () => undefined,
        )
      }
      return outcome
    },
  }
}

/** The service's handlers, and the open session streams (closed at shutdown). */
export function transactionManagerHandlers(
  coordinator: Coordinator,
  logger: Logger,
  limits: SessionLimits,
  members: MembersSource,
  observeSessionRequest?: SessionRequestObserver,
): { handlers: TransactionManagerHandlers; sessions: SessionRegistry } {
  const served = serveOperations(transactionManagerOperations(coordinator, limits.maxMessageBytes), logger, limits, observeSessionRequest, {
    bind: (gtrid, tie, caller) => coordinator.bindSession(gtrid, tie, caller),
    lost: (tie) => coordinator.sessionLost(tie),
  })
  return { handlers: { ...served.handlers, ListMembers: listMembersHandler(members, logger) }, sessions: served.sessions }
}

/** A request's begin field (set only by a client that named the transaction itself). */
function beginOptions(begin: BeginRequest__Output | null | undefined, caller: string | undefined): BeginOptions | undefined {
  return begin ? { timeoutMs: begin.timeoutMs, labels: begin.labels, tmInstance: begin.tmInstance, caller } : undefined
}

/** wait_for; INVALID_ARGUMENT for a value the proto does not know (it used to read as the default). */
function waitFor(value: unknown): 'applied' | 'durable' {
  return enumField(WaitFor, value, 'wait_for') === 'WAIT_FOR_DURABLE' ? 'durable' : 'applied'
}
