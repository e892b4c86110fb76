// The in-memory view of the log every store keeps: which transactions have a
// decision, which ended, what operators resolved. Rebuilt on open by replay.
import type { LoggedTransaction } from './decision-log.js'
import type { DecisionRecord, LogRecord, ResolutionRecord } from './log-record.js'

interface OpenEntry {
  gtrid: string
  decision?: DecisionRecord
  resolutions: ResolutionRecord[]
}

/** How many ended transactions to remember, so a status query after a restart can still say COMMITTED. */
const REMEMBERED_ENDED = 50_000

export class DecisionIndex {
  private readonly open = new Map<string, OpenEntry>()
  /** Ended transactions (their decision and resolutions), oldest first, bounded. */
  private readonly ended = new Map<string, { decision: DecisionRecord | undefined; resolutions: ResolutionRecord[] }>()

  apply(record: LogRecord): void {
    if (record.type === 'end') {
      const entry = this.open.get(record.gtrid)
      // An END whose decision and resolutions are gone (collected with an older segment): a
      // committed one still answers COMMITTED; any other is forgotten, never made a rollback.
      if (!entry && record.committed !== true) return
      this.open.delete(record.gtrid)
      const decision = entry?.decision ?? (entry ? undefined : { type: 'decision' as const, gtrid: record.gtrid, at: record.at, branches: [] })
      this.ended.set(record.gtrid, { decision, resolutions: entry?.resolutions ?? [] })
      if (this.ended.size > REMEMBERED_ENDED) {
        const oldest = this.ended.keys().next()
        if (!oldest.done) this.ended.delete(oldest.value)
      }
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

  get(gtrid: string): LoggedTransaction | undefined {
    const entry = this.open.get(gtrid)
    if (entry) return snapshot(entry, false)
    const ended = this.ended.get(gtrid)
    if (ended) return { gtrid, ended: true, resolutions: [...ended.resolutions], ...(ended.decision && { decision: ended.decision }) }
    return undefined
  }

  unfinished(): LoggedTransaction[] {
    return [...this.open.values()].map((e) => snapshot(e, false))
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
