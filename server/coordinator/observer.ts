// What the coordinator tells an observer (the metrics) as transactions move.
// Every call is synchronous and cheap: counters and histograms in memory,
// never I/O, since some sit on the commit path.
import type { Transaction } from './transaction.js'

/** How a transaction ended, as counted by arbiter_transactions_finished_total. */
export type TxOutcome = 'committed' | 'rolled_back' | 'heuristic' | 'unknown'

export interface CoordinatorObserver {
  begun(tx: Transaction): void
  /** Called once per transaction at most; later calls for the same one are ignored by the observer. */
  finished(tx: Transaction, outcome: TxOutcome): void
  /** Commit answered with success: begin → answer. */
  commitAnswered(tx: Transaction): void
  /** An operator's resolution contradicted the decision. */
  heuristic(tx: Transaction): void
  phase1(seconds: number): void
  /** The forced DECISION write, fsync included. */
  decisionAppended(seconds: number): void
  phase2(seconds: number): void
  resourceError(resource: string, errorClass: string): void
}

/** Seconds since a performance.now() reading. */
export function secondsSince(start: number): number {
  return (performance.now() - start) / 1000
}
