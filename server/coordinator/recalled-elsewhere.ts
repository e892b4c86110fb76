// Transactions another node of a cluster drives: it decided them, or took
// them over from this node (after this node lost its lease, or restarted
// with its node id). This node's log no longer holds them, yet a client
// whose answer was lost asks this node (GetTransaction, a repeated Commit or
// Run): answering NOT_FOUND (presumed aborted) for a transaction another
// node committed would be a lie. Before such a call, the shared store is
// asked, and its word answers the call. Read for answers only, never driven
// here: the node that owns the transaction finishes it.
import type { DecisionLog, LoggedTransaction } from '../log/decision-log.js'

/** The store's answers kept for the call that asked (a few calls in flight at once, not a cache: each call asks again). */
const KEPT = 1000

export class RecalledElsewhere {
  private readonly kept = new Map<string, LoggedTransaction>()

  constructor(private readonly log: DecisionLog) {}

  /** True when the log can tell of transactions other nodes own (a shared store). */
  get applies(): boolean {
    return this.log.lookUp !== undefined
  }

  /** Asks the store about `gtrid` (unknown here); get() then answers from what it said. */
  async recall(gtrid: string): Promise<void> {
    const found = await this.log.lookUp?.(gtrid)
    this.kept.delete(gtrid)
    if (found?.decision === undefined) return
    this.kept.set(gtrid, found)
    if (this.kept.size > KEPT) this.kept.delete(this.kept.keys().next().value!)
  }

  get(gtrid: string): LoggedTransaction | undefined {
    return this.kept.get(gtrid)
  }
}
