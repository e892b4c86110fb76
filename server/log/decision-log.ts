// The decision log's interface: the file store is the default; PostgreSQL
// and Redis stores (for clusters) implement the same contract.
import type { DecisionRecord, LoggedBranch, ResolutionRecord } from './log-record.js'

/** What the log knows of one transaction. */
export interface LoggedTransaction {
  readonly gtrid: string
  readonly decision?: DecisionRecord
  readonly ended: boolean
  readonly resolutions: readonly ResolutionRecord[]
}

export interface DecisionLogStats {
  /** Records appended since open. */
  readonly records: number
  /** fsync calls since open (group commit makes this far smaller than forced records). */
  readonly fsyncs: number
  /** Write batches since open. */
  readonly batches: number
  /** Segment files on disk now (file store). */
  readonly segments: number
}

export interface EndOptions {
  /** Written at once, not held for the next decision's write (a caller waits for it). */
  readonly now?: boolean
  /** It ends a COMMIT decision that committed (EndRecord.committed). */
  readonly committed?: boolean
}

/** Why `log` takes no decision now (its own words when it has them), or undefined while it is healthy. */
export function logRefusal(log: DecisionLog): string | undefined {
  if (log.healthy()) return undefined
  return log.problem?.() ?? 'the decision log has failed (an fsync failed): this TM commits nothing until it is restarted'
}

export interface DecisionLog {
  /** Reads what is there (repairing a torn tail); fails loudly on mid-log corruption. */
  open(): Promise<void>
  /** Forces a COMMIT decision to stable storage: resolves only once durable. `trace`: DecisionRecord.trace. */
  appendDecision(gtrid: string, branches: readonly LoggedBranch[], trace?: string): Promise<void>
  /**
   * Phase 2 finished. Not forced: losing it only means a redundant, idempotent re-commit.
   * An END alone waits a moment for the next decision's write (end-wait.ts) unless `now`
   * (a caller waits for it).
   */
  appendEnd(gtrid: string, options?: EndOptions): Promise<void>
  /** An operator's resolution, forced before it is carried out. */
  appendResolution(record: Omit<ResolutionRecord, 'type' | 'at'>): Promise<void>
  /** The transactions with a decision or a resolution and no END. */
  unfinished(): LoggedTransaction[]
  /**
   * This node's ended transactions whose outcome a resolution mixed (HEURISTIC): kept for good, so the lists show
   * them after a restart too (found by hostile testing: only show and GetTransaction did).
   */
  heuristicEnded(): LoggedTransaction[]
  get(gtrid: string): LoggedTransaction | undefined
  stats(): DecisionLogStats
  /**
   * False once the log cannot promise what it holds (an fsync failed): then
   * nothing may be presumed aborted, since a decision may be durable that
   * the index does not show.
   */
  healthy(): boolean
  /**
   * A shared store's word on a transaction this node's index does not hold
   * (another node decided it, or took it over from this one): read for an
   * answer, never driven here. Absent for a store only this node writes.
   */
  lookUp?(gtrid: string): Promise<LoggedTransaction | undefined>
  /**
   * When this log was created (ms): for a store on one node's disk, when
   * that log was; for the shared store, when this node first joined it. A
   * branch of this node named before that may have its decision in another
   * log (a wrong dataDir, a volume not mounted, log.url naming another
   * store), so nothing named before it is presumed aborted. Undefined: not
   * known (a log from before this was recorded).
   */
  createdAt?(): number | undefined
  /** Why the log cannot take a decision now, in words (readiness); undefined: the store has nothing to say beyond healthy(). */
  problem?(): string | undefined
  close(): Promise<void>
}

/**
 * The log cannot promise durability any more (an fsync failed: the kernel
 * may have dropped the dirty pages). Fail-stop: whether the records of the
 * failed batch survive is unknown until a restart reads the log.
 */
export class LogFailedError extends Error {
  override readonly name = 'LogFailedError'
}

/** A write failed and was undone: the records are not in the log (e.g. disk full). */
export class LogWriteError extends Error {
  override readonly name = 'LogWriteError'
}

/** The log on disk is damaged somewhere a crash cannot explain. */
export class LogCorruptError extends Error {
  override readonly name = 'LogCorruptError'
}
