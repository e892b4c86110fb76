// The in-memory view of the log every store keeps: which transactions have a
// decision, which ended, what operators resolved. Rebuilt on open by replay.
import type { LoggedTransaction } from './decision-log.js'
import { mixingResolution, type DecisionRecord, type LogRecord, type ResolutionRecord } from './log-record.js'

interface OpenEntry {
  gtrid: string
  decision?: DecisionRecord
  resolutions: ResolutionRecord[]
}

/** How many ended transactions to remember, so a status query after a restart can still say COMMITTED. */
const REMEMBERED_ENDED = 50_000

type EndedEntry = { decision: DecisionRecord | undefined; resolutions: ResolutionRecord[] }

export class DecisionIndex {
  private readonly open = new Map<string, OpenEntry>()
  /** Ended transactions (their decision and resolutions), oldest first, bounded. */
  private readonly ended = new Map<string, EndedEntry>()
  /**
   * Ended transactions whose outcome a resolution mixed (HEURISTIC): never
   * forgotten, as their records are never collected (the audit trail of an
   * outcome that broke atomicity; found by hostile testing: after a restart
   * they had read NOT_FOUND, "presumed aborted"). Rare: each needs an operator.
   */
  private readonly mixedEnded = new Map<string, EndedEntry>()

  apply(record: LogRecord): void {
    if (record.type === 'end') {
      const entry = this.open.get(record.gtrid)
      // An END whose decision and resolutions are gone (collected with an older segment): a
      // committed one still answers COMMITTED; any other is forgotten, never made a rollback.
      if (!entry && record.committed !== true) return
      this.open.delete(record.gtrid)
      const decision = entry?.decision ?? (entry ? undefined : { type: 'decision' as const, gtrid: record.gtrid, at: record.at, branches: [] })
      this.remember(record.gtrid, { decision, resolutions: entry?.resolutions ?? [] })
      return
    }
    const ended = this.endedEntry(record.gtrid)
    if (ended && record.type === 'resolution' && !this.open.has(record.gtrid)) {
      // Logged after its END (an operator's call that raced phase 2): it belongs to the ended transaction,
      // not to a new one without a decision (found by hostile testing: that read ROLLED_BACK or NOT_FOUND).
      ended.resolutions.push(record)
      this.remember(record.gtrid, ended)
      return
    }
    let entry = this.open.get(record.gtrid)
    if (!entry) {
      entry = { gtrid: record.gtrid, resolutions: [] }
      this.open.set(record.gtrid, entry)
    }
    if (record.type === 'decision') entry.decision = record
    else entry.resolutions.push(record)
  }

  /** True while the transaction has a decision or resolution and no END. */
  isOpen(gtrid: string): boolean {
    return this.open.has(gtrid)
  }

  /** True when the transaction ended with an outcome a resolution mixed (its records are kept: file-decision-log.ts). */
  endedMixed(gtrid: string): boolean {
    return this.mixedEnded.has(gtrid)
  }

  get(gtrid: string): LoggedTransaction | undefined {
    const entry = this.open.get(gtrid)
    if (entry) return snapshot(entry, false)
    const ended = this.endedEntry(gtrid)
    if (ended) return { gtrid, ended: true, resolutions: [...ended.resolutions], ...(ended.decision && { decision: ended.decision }) }
    return undefined
  }

  private endedEntry(gtrid: string): EndedEntry | undefined {
    return this.mixedEnded.get(gtrid) ?? this.ended.get(gtrid)
  }

  /** Keeps an ended transaction: a mixed one for good, any other among the last REMEMBERED_ENDED. */
  private remember(gtrid: string, entry: EndedEntry): void {
    this.ended.delete(gtrid)
    this.mixedEnded.delete(gtrid)
    if (mixingResolution(entry.decision !== undefined, entry.resolutions)) {
      this.mixedEnded.set(gtrid, entry)
      return
    }
    this.ended.set(gtrid, entry)
    if (this.ended.size > REMEMBERED_ENDED) {
      const oldest = this.ended.keys().next()
      if (!oldest.done) this.ended.delete(oldest.value)
    }
  }

  unfinished(): LoggedTransaction[] {
    return [...this.open.values()].map((e) => snapshot(e, false))
  }

  /** The ended transactions a resolution mixed (HEURISTIC), kept for good (mixedEnded). */
  heuristicEnded(): LoggedTransaction[] {
    return [...this.mixedEnded].map(([gtrid, e]) => ({ gtrid, ended: true, resolutions: [...e.resolutions], ...(e.decision && { decision: e.decision }) }))
  }
}

function snapshot(entry: OpenEntry, ended: boolean): LoggedTransaction {
  return {
    gtrid: entry.gtrid,
    ended,
    resolutions: [...entry.resolutions],
    ...(entry.decision && { decision: entry.decision }),
  }
}
