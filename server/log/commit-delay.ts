// The commit delay: how long a log batch holding a decision waits before its
// fsync so that more decisions share it (group commit under load), and when
// it stops waiting.
//
// It waits for a share (`batchFraction`) of the transactions in progress to
// bring their decisions. That bounds the latency it adds to the same share
// of the transactions' own: with N transactions in progress taking L each,
// decisions arrive at N/L (Little's law), so gathering f·N of them takes
// about f·L — and the fsyncs per decision fall to about 1/(f·N). It never
// waits longer than `maxDelayMs`, not while fewer than `minSiblings`
// transactions are in progress (a batch of one needs no wait), and not while
// decisions arrive so sparsely (mean gap over `maxDelayMs`) that waiting
// would not even bring one more.

export interface CommitDelayOptions {
  /** The longest wait before an fsync, in ms (0: never wait). */
  readonly maxDelayMs: number
  /** No wait while fewer transactions than this are in progress. */
  readonly minSiblings: number
  /** Stop waiting once the batch holds this share of the transactions in progress. */
  readonly batchFraction: number
  /** The transactions in progress now (the coordinator's live ones and those it cannot see yet). */
  readonly siblings: () => number
}

/** A wait before an fsync: until the batch holds `target` decisions, at most `waitMs`. */
export interface CommitWait {
  readonly target: number
  readonly waitMs: number
}

/** Weight of the newest gap in the running mean of gaps between decisions. */
const GAP_WEIGHT = 0.1

export class CommitDelay {
  private meanGapMs: number | undefined
  private lastArrivalMs: number | undefined

  constructor(private readonly options: CommitDelayOptions) {}

  /** A decision arrived at `nowMs` (a monotonic clock). */
  noteDecision(nowMs: number): void {
    if (this.lastArrivalMs !== undefined) {
      // A long pause counts as a few maxDelays: enough to stop waiting, and
      // a new burst brings the mean down again within a few decisions.
      const gap = Math.min(nowMs - this.lastArrivalMs, 4 * this.options.maxDelayMs)
      this.meanGapMs = this.meanGapMs === undefined ? gap : this.meanGapMs + GAP_WEIGHT * (gap - this.meanGapMs)
    }
    this.lastArrivalMs = nowMs
  }

  /** Whether a batch already holding `queued` decisions should wait for more; undefined: write it now. */
  plan(queued: number): CommitWait | undefined {
    const { maxDelayMs, minSiblings, batchFraction } = this.options
    if (maxDelayMs <= 0) return undefined
    const live = this.options.siblings()
    if (live < minSiblings) return undefined
    const target = Math.ceil(batchFraction * live)
    if (queued >= target) return undefined
    if (this.meanGapMs === undefined || this.meanGapMs > maxDelayMs) return undefined
    return { target, waitMs: maxDelayMs }
  }
}

/**
 * The commit delay as both stores apply it around their flush loop: told of
 * each decision queued, and asked before each batch whether to wait for more.
 */
export class BatchWait {
  private readonly delay: CommitDelay | undefined
  private waiting: { readonly target: number; readonly done: () => void } | undefined

  constructor(options: CommitDelayOptions | undefined) {
    this.delay = options && new CommitDelay(options)
  }

  /** A decision was queued; `queued` decisions wait for the next batch now. */
  decisionQueued(queued: number): void {
    if (!this.delay) return
    this.delay.noteDecision(performance.now())
    if (this.waiting && queued >= this.waiting.target) this.waiting.done()
  }

  /** Before a batch holding `queued` decisions: waits as the commit delay plans (until enough come, or its longest wait). */
  async beforeBatch(queued: number): Promise<void> {
    const wait = queued > 0 ? this.delay?.plan(queued) : undefined
    if (!wait) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.waiting = undefined
        resolve()
      }
      const timer = setTimeout(done, wait.waitMs)
      this.waiting = { target: wait.target, done }
    })
  }

  /** Ends a wait at once (closing: no commit delay on the way out). */
  release(): void {
    this.waiting?.done()
  }
}
