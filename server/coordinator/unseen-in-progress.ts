// Transactions in progress that the TM cannot see. One that a client named
// itself and that has only local branches begins with its Commit: until then
// it is in progress at the client, and the coordinator's live count misses
// it. The commit delay needs the true number in progress (commit-delay.ts),
// so this counts them by Little's law: in progress ≈ the rate at which they
// arrive × how long each was under way before it arrived (its gtrid's time
// says when the client began it). Both are running means; the rate decays
// when arrivals stop, so the estimate falls to 0 after a burst.

/** Weight of the newest sample in the running means. */
const WEIGHT = 0.1

export class UnseenInProgress {
  private meanGapMs: number | undefined
  private meanAgeMs = 0
  private lastArrivalMs: number | undefined

  /** A transaction that began with its Commit arrived at `nowMs`, `ageMs` after the client began it. */
  note(nowMs: number, ageMs: number): void {
    const age = Math.max(0, ageMs) // a client clock a little ahead of ours
    this.meanAgeMs += WEIGHT * (age - this.meanAgeMs)
    if (this.lastArrivalMs !== undefined) {
      const gap = Math.max(0, nowMs - this.lastArrivalMs)
      this.meanGapMs = this.meanGapMs === undefined ? gap : this.meanGapMs + WEIGHT * (gap - this.meanGapMs)
    }
    this.lastArrivalMs = nowMs
  }

  /** How many such transactions are in progress at the clients now (0 until two have arrived). */
  estimate(nowMs: number): number {
    if (this.meanGapMs === undefined || this.lastArrivalMs === undefined) return 0
    // No arrival for longer than the mean gap: the rate is at most one per that silence.
    const gap = Math.max(this.meanGapMs, nowMs - this.lastArrivalMs, 0.001)
    return Math.round(this.meanAgeMs / gap)
  }
}
