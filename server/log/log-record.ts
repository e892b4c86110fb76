// What the decision log holds. Presumed abort: only COMMIT decisions (and
// operators' resolutions) are forced; END is a hint that lets segments go.

export interface LoggedBranch {
  readonly resource: string
  /** The branch qualifier, hex. (formatId is Arbiter's; gtrid is the record's.) */
  readonly bqual: string
  /**
   * The tag of the server and database the resource reached when the branch
   * was prepared (ResourceRegistry.identityTag); absent where not known.
   * Phase 2 by XID believes "not found, so already done" only there.
   */
  readonly on?: string
}

/** The commit point: every listed branch is prepared and must be committed. */
export interface DecisionRecord {
  readonly type: 'decision'
  readonly gtrid: string
  readonly at: number
  readonly branches: readonly LoggedBranch[]
  /**
   * The W3C traceparent of the decision write's span, when the transaction
   * was traced: recovery and takeover link their spans to it. Absent
   * without tracing (the record is then what it always was).
   */
  readonly trace?: string
}

/** Phase 2 finished: every branch is committed (or resolved by an operator). */
export interface EndRecord {
  readonly type: 'end'
  readonly gtrid: string
  readonly at: number
  /**
   * Ends a COMMIT decision that committed. Replay may find an END whose
   * decision went with an older segment (collected once everything in it had
   * ended): this still answers COMMITTED for it. Absent: the outcome is the
   * one the decision and resolutions before it say, or forgotten.
   */
  readonly committed?: true
}

/** An operator's manual resolution of one branch, with who and why. */
export interface ResolutionRecord {
  readonly type: 'resolution'
  readonly gtrid: string
  readonly at: number
  readonly resource: string
  readonly bqual: string
  /**
   * 'abandon': the branch of a COMMIT decision was given up, its server gone
   * for good (Resolution.RESOLUTION_ABANDON): nothing was sent to it, and
   * whether it committed is not known. Always heuristic.
   */
  readonly action: 'commit' | 'rollback' | 'abandon'
  readonly operator: string
  readonly reason: string
  /** True when it contradicts the logged decision (forced). */
  readonly heuristic: boolean
  /**
   * Written by the TM, not an operator: phase 2 applied this branch's commit
   * only in part (a Redis key changed outside Arbiter), so the branch is
   * finished and the outcome mixed though the action agrees with the decision.
   */
  readonly inPart?: true
  /**
   * Written by the TM right after an abandon whose branch phase 2 had committed meanwhile: the abandon before it
   * did not take effect, and does not make the outcome mixed (abandon-branch.ts).
   */
  readonly overtaken?: true
}

export type LogRecord = DecisionRecord | EndRecord | ResolutionRecord

/** A resolution as the audit column shows it: what, who, why. */
export function resolutionText(r: ResolutionRecord): string {
  const done = { commit: 'committed', rollback: 'rolled back', abandon: 'abandoned (its server gone; not known to have committed)' }[r.action]
  return `${done} by ${r.operator}${r.heuristic ? ' (heuristic)' : ''}: ${r.reason}`
}

/**
 * The resolution that makes a logged transaction's outcome mixed, if any.
 * Against a COMMIT decision: a branch rolled back by force, or committed in
 * part. Without one (presumed abort): a branch committed by force. A forced
 * commit of a live transaction that its COMMIT decision then agreed with
 * leaves the outcome whole. An abandoned branch mixes it for good, whatever
 * is logged for that branch later (its commit was not known to have happened
 * when callers were told so), unless the record right after the abandon says
 * phase 2 had committed the branch first (overtaken).
 */
export function mixingResolution(decided: boolean, resolutions: readonly ResolutionRecord[]): ResolutionRecord | undefined {
  // Each branch's last word counts: a forced rollback that found the branch committed by phase 2 first is
  // followed by a record saying so (resolve-branch.ts), and then it did not mix the outcome.
  if (resolutions.length === 0) return undefined // every END asks (decision-index.ts): no allocation for the common case
  const last = new Map<string, ResolutionRecord>()
  const abandoned = new Map<string, ResolutionRecord>()
  for (const r of resolutions) {
    const key = `${r.resource}|${r.bqual}`
    if (r.overtaken === true && last.get(key)?.action === 'abandon') abandoned.delete(key)
    else if (r.action === 'abandon') abandoned.set(key, r)
    last.set(key, r)
  }
  const [firstAbandoned] = abandoned.values()
  return firstAbandoned ?? [...last.values()].find((r) => r.heuristic && (r.inPart === true || r.action === (decided ? 'rollback' : 'commit')))
}

/** Why a transaction with a heuristic resolution is HEURISTIC (Transaction.abortReason), in one spelling for every view. */
export function heuristicReason(r: ResolutionRecord): string {
  return `heuristic: branch on "${r.resource}" ${resolutionText(r)}`
}

export function isLogRecord(value: unknown): value is LogRecord {
  if (typeof value !== 'object' || value === null) return false
  const r = value as Record<string, unknown>
  if (typeof r.gtrid !== 'string' || typeof r.at !== 'number') return false
  switch (r.type) {
    case 'decision':
      return Array.isArray(r.branches) && r.branches.every(isLoggedBranch) && (r.trace === undefined || typeof r.trace === 'string')
    case 'end':
      return true // `committed` is read only when it is true (DecisionIndex): anything else is an END without it
    case 'resolution':
      return (
        typeof r.resource === 'string' &&
        typeof r.bqual === 'string' &&
        (r.action === 'commit' || r.action === 'rollback' || r.action === 'abandon') &&
        typeof r.operator === 'string' &&
        typeof r.reason === 'string' &&
        typeof r.heuristic === 'boolean'
      )
    default:
      return false
  }
}

function isLoggedBranch(value: unknown): value is LoggedBranch {
  if (typeof value !== 'object' || value === null) return false
  const b = value as Record<string, unknown>
  return typeof b.resource === 'string' && typeof b.bqual === 'string' && (b.on === undefined || typeof b.on === 'string')
}
