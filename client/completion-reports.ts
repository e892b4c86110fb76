// Reports of local branches the application committed itself
// (CompleteLocalBranches) only spare the TM its own commit of them after its
// grace period, so nobody waits for them: the client gathers them for a few
// milliseconds and sends them together, one request for many transactions
// instead of one each.
import type { CommittedLocalBranches } from '../proto/gen/arbiter/v1/CommittedLocalBranches.js'
import type { CompleteLocalBranchesRequest } from '../proto/gen/arbiter/v1/CompleteLocalBranchesRequest.js'

/** How long a report may wait for company, and how many one request carries at most. */
export const REPORT_DELAY_MS = 5
export const REPORT_BATCH_MAX = 256

/** @internal */
export class CompletionReports {
  private queue: CommittedLocalBranches[] = []
  private timer: NodeJS.Timeout | undefined

  /** `send` delivers one request; its failure is ignored (the TM finishes what it does not hear about). */
  constructor(private readonly send: (request: CompleteLocalBranchesRequest) => Promise<unknown>) {}

  add(gtrid: string, committedBquals: Buffer[]): void {
    this.queue.push({ gtrid, committedBquals })
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
