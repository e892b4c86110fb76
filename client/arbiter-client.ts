// createArbiterClient(): the application's entry point. One gRPC channel per
// client; transaction() for multi-step work, run() for the one-shot Run RPC.
import { inClientSpan } from './tracing.js'
import { IllegalStateError, InvalidArgumentError } from './errors.js'
import { checkTransactionOptions, resolveClientOptions, type ArbiterClientOptions, type TransactionOptions } from './options.js'
import type { Transaction } from './transaction.js'
import { toTransactionInfo, type TransactionInfo } from './transaction-info.js'
import { runTransaction, withRetry } from './transaction-runner.js'
import { NodeSet } from './node-set.js'
import { toWireStatements, type Statement } from './statements.js'
import { runNamed } from './one-shot.js'
import { fromResultSet, type ExecuteResult } from './values.js'

/** One statement of client.run() (the same shape as tx.executeBatch()'s). */
export type RunStatement = Statement

/** What client.run() returns. */
export interface RunResult {
  /** The committed transaction as the TM reported it. */
  readonly transaction: TransactionInfo
  /** One result per statement, in order (empty when resultsDropped). */
  readonly results: ExecuteResult[]
  /**
   * True when the answer of the first send was lost and the TM, asked again,
   * no longer had the results (over 1 MiB, or it restarted): the transaction
   * committed, its results are gone.
   */
  readonly resultsDropped: boolean
}

/** Options of client.getTransaction(). */
export interface GetTransactionOptions {
  /** Cancels the call (default: none). */
  readonly signal?: AbortSignal
}

/** A client of Arbiter's TransactionManager service. Create it once; close() it at shutdown. */
export interface ArbiterClient {
  /**
   * Runs `fn` in a new transaction: Begin, the callback, then Commit when it
   * returns (resolving with its value) or Rollback when it throws (rejecting
   * with the callback's own error). Options default to: the server's timeout,
   * no labels, waitFor 'applied', no retry, no signal.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T> | T, options?: TransactionOptions): Promise<T>
  /**
   * Begins, runs `statements` in order (each on its resource) and commits, in
   * one round trip (the Run RPC; two for the first call on a session and
   * every call with transport 'unary': a Begin names the transaction). A
   * failing or refused statement rolls everything back
   * (TransactionAbortedError, InvalidArgumentError). The call carries a name
   * the client chose, so it is idempotent: when its answer is lost the client
   * sends it again (up to outcomeQueryAttempts times) and the TM answers the
   * first run's outcome, never running it twice. Every error but
   * OutcomeUnknownError means it did not commit; OutcomeUnknownError (its
   * gtrid set) means it may have, including after cancelling it
   * (options.signal) once sent.
   */
  run(statements: readonly RunStatement[], options?: TransactionOptions): Promise<RunResult>
  /** What the TM knows of a transaction; TransactionNotFoundError when nothing (presumed aborted). */
  getTransaction(gtrid: string, options?: GetTransactionOptions): Promise<TransactionInfo>
  /** Releases the channel. Calls after close() fail with IllegalStateError. */
  close(): void
}

/**
 * Creates a client. Defaults: plaintext (no `tls`), no token, 30 s deadline
 * per RPC, no extra channel options, 5 outcome queries after a lost Commit.
 * Connecting is lazy: a wrong address shows at the first call (UnavailableError).
 * With `addresses` (a cluster), transactions are spread over the nodes (node-set.ts).
 */
export function createArbiterClient(options: ArbiterClientOptions): ArbiterClient {
  const resolved = resolveClientOptions(options)
  const nodes = new NodeSet(resolved)
  let closed = false
  const open = (): void => {
    if (closed) throw new IllegalStateError('the Arbiter client is closed')
  }

  return {
    async transaction<T>(fn: (tx: Transaction) => Promise<T> | T, txOptions: TransactionOptions = {}): Promise<T> {
      open()
      if (typeof fn !== 'function') throw new InvalidArgumentError('transaction() needs a callback')
      return inClientSpan('arbiter.transaction', { 'rpc.method': 'transaction' }, () => runTransaction(nodes, fn, txOptions, resolved))
    },

    async run(statements: readonly RunStatement[], runOptions: TransactionOptions = {}): Promise<RunResult> {
      open()
      checkTransactionOptions(runOptions)
      const wire = toWireStatements(statements, 'run()')
      return inClientSpan('arbiter.run', { 'rpc.method': 'Run' }, () => withRetry(runOptions, async () => {
        const response = await runNamed(nodes, wire, runOptions, resolved)
        if (!response.transaction) throw new IllegalStateError('the TM answered Run without a transaction')
        return {
          transaction: toTransactionInfo(response.transaction),
          results: response.results.map((r) => fromResultSet(r)),
          resultsDropped: response.resultsDropped,
        }
      }))
    },

    async getTransaction(gtrid: string, getOptions: GetTransactionOptions = {}): Promise<TransactionInfo> {
      open()
      if (typeof gtrid !== 'string' || gtrid === '') throw new InvalidArgumentError('getTransaction() needs a gtrid')
      return toTransactionInfo(await nodes.getTransaction(gtrid, { signal: getOptions.signal }))
    },

    close(): void {
      if (closed) return
      closed = true
      nodes.close()
    },
  }
}
