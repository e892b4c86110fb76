// What a transaction must pass to begin, and its branches to take a pooled
// session: the Begin's options (timeout, labels), the node's active limit,
// its caller's own limits (caller-limits.ts), and its caller's share of each
// resource's session pool (pool-shares.ts). Split from coordinator.ts, which
// runs the transactions once admitted.
import type { BranchSession, ResourceAdapter, Xid } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import { CallerLimits } from './caller-limits.js'
import type { BeginOptions, CoordinatorConfig } from './coordinator-config.js'
import { PoolShares, shareOf } from './pool-shares.js'
import type { LiveCounter, Transaction } from './transaction.js'

export class BeginAdmission {
  /** Per-caller limits and counts, when auth is on. */
  readonly callerLimits: CallerLimits | undefined
  /** Each caller's share of each resource's session pool (with callerLimits). */
  readonly poolShares = new PoolShares()

  constructor(
    private readonly config: CoordinatorConfig,
    /** The node's count of transactions in progress. */
    private readonly live: LiveCounter,
  ) {
    this.callerLimits = config.callers ? new CallerLimits(config.callers, live) : undefined
  }

  /** The Begin's timeout and labels, within the limits (else INVALID_ARGUMENT naming the option). */
  checkOptions(options: BeginOptions): { timeoutMs: number; labels: Record<string, string> } {
    const { config } = this
    const timeoutMs = options.timeoutMs || config.defaultTimeoutMs
    if (timeoutMs > config.maxTimeoutMs) {
      throw new TmError('TM_INVALID_ARGUMENT', `timeout_ms ${timeoutMs} is over the maximum of ${config.maxTimeoutMs} (transactions.maxTimeoutMs)`)
    }
    const labels = options.labels ?? {}
    const labelKeys = Object.keys(labels)
    if (labelKeys.length > config.limits.maxLabels) {
      throw new TmError('TM_INVALID_ARGUMENT', `more than ${config.limits.maxLabels} labels (limits.maxLabels)`)
    }
    const maxLabelBytes = config.limits.maxLabelBytes ?? 4096
    let labelBytes = 0
    for (const key of labelKeys) labelBytes += Buffer.byteLength(key) + Buffer.byteLength(labels[key] ?? '')
    if (labelBytes > maxLabelBytes) {
      throw new TmError('TM_INVALID_ARGUMENT', `labels take ${labelBytes} bytes, over the limit of ${maxLabelBytes} (limits.maxLabelBytes)`)
    }
    return { timeoutMs, labels: { ...labels } }
  }

  /** The node-wide active limit, then the caller's own limits; the counter the new transaction counts in. */
  admit(caller: string | undefined): LiveCounter {
    const max = this.config.limits.maxActiveTransactions
    if (this.live.value >= max) {
      this.callerLimits?.refusedByNode(caller)
      throw new TmError('TM_OVERLOADED', `${max} transactions are active (limits.maxActiveTransactions): retry later`)
    }
    return this.callerLimits?.admit(caller) ?? this.live
  }

  /** Starts a managed branch on a pooled session, within its caller's share of the pool. */
  beginBranch(adapter: ResourceAdapter, tx: Transaction, xid: Xid, firstStatementWrites: boolean): Promise<BranchSession> {
    const options = { signal: tx.cancel.signal, firstStatementWrites }
    const { caller } = tx
    const pool = adapter.sessionPool
    if (caller === undefined || pool === undefined || this.callerLimits === undefined) return adapter.begin(xid, options)
    const { fraction, option } = this.callerLimits.poolShare(caller)
    if (fraction >= 1) return adapter.begin(xid, options)
    const wait = { signal: options.signal, timeoutMs: pool.waitMs }
    return this.poolShares.begin(adapter.name, caller, shareOf(pool.size, fraction, option), wait, () => adapter.begin(xid, options))
  }
}
