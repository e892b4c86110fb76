// Reports of local branches the application committed itself
// (CompleteLocalBranches) only spare the TM its own commit of them after its
// grace period, so nobody waits for them. They ride on the client's next
// Commit (CommitRequest.completed_local) when one goes out soon; otherwise
// the client sends what gathered in a few milliseconds as one request.
import type { CommittedLocalBranches } from '../proto/gen/arbiter/v1/CommittedLocalBranches.js'
import type { CompleteLocalBranchesRequest } from '../proto/gen/arbiter/v1/CompleteLocalBranchesRequest.js'

/**
 * How long a report may wait for a Commit to ride on (or for company), and
 * how many one request carries at most. Under load a Commit comes first.
 */
export const REPORT_DELAY_MS = 20
export const REPORT_BATCH_MAX = 256

/** @internal */
export class CompletionReports {
  private queue: CommittedLocalBranches[] = []
  private timer: NodeJS.Timeout | undefined

  /** `send` delivers one request; its failure is ignored (the TM finishes what it does not hear about). */
  constructor(private readonly send: (request: CompleteLocalBranchesRequest) => Promise<unknown>) {}

  add(gtrid: string, committedBquals: Buffer[]): void {
    this.enqueue([{ gtrid, committedBquals }])
  }

  /** Reports a Commit carried that failed: maybe never applied, so they go again (applying one twice is harmless). */
  putBack(reports: CommittedLocalBranches[]): void {
    this.enqueue(reports)
  }

  /** The queued reports, for a Commit to carry: nothing is left to send. */
  take(): CommittedLocalBranches[] {
    clearTimeout(this.timer)
    this.timer = undefined
    const batch = this.queue
    this.queue = []
    return batch
  }

  private enqueue(reports: CommittedLocalBranches[]): void {
    this.queue.push(...reports)
    if (this.queue.length >= REPORT_BATCH_MAX) this.flush()
    else this.timer ??= setTimeout(() => this.flush(), REPORT_DELAY_MS).unref()
  }

  /** Sends what is queued now (also at close). */
  flush(): void {
    clearTimeout(this.timer)
    this.timer = undefined
    if (this.queue.length === 0) return
    const batch = this.queue
    this.queue = []
    void this.send({ batch }).catch(() => undefined)
  }
}
