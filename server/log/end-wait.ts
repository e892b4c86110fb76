// END records wait for company. An END only lets the log forget a decision
// whose phase 2 is done: losing it costs recovery an idempotent re-commit,
// so no caller waits for it (commit-protocol.ts). Written alone it still
// costs a batch: in the shared store a commit (a WAL flush and a round trip),
// in the file store a write, and while that batch runs the next decision
// queues behind it. So a batch holding only ENDs waits for the next record
// that must be written anyway (a decision or a resolution) and goes out with
// it, or goes alone after `maxWaitMs` when none comes (an idle TM).
//
// The wait is short: until its END is written, the shared store (and so every
// other node's GetTransaction) shows a transaction whose phase 2 is done as
// decided, COMMITTING. Under load a decision comes within milliseconds; at
// one transfer at a time, within one transfer's latency.

/** How long ENDs alone wait for a decision or resolution to share its batch. */
export const END_WAIT_MS = 50

export class EndWait {
  private wake: (() => void) | undefined
  private released = false

  constructor(private readonly maxWaitMs = END_WAIT_MS) {}

  /**
   * Before a batch: when it would hold only ENDs no caller waits for
   * (`mustWrite` 0), waits until a record that must be written is queued
   * (must()), `maxWaitMs` passed, or release(); else returns at once.
   */
  async forCompany(mustWrite: number): Promise<void> {
    if (mustWrite > 0 || this.released || this.maxWaitMs <= 0) return
    await new Promise<void>((resolve) => {
      const done = (): void => {
        clearTimeout(timer)
        this.wake = undefined
        resolve()
      }
      const timer = setTimeout(done, this.maxWaitMs)
      this.wake = done
    })
  }

  /** A record that must be written was queued (a decision, a resolution, an END a caller waits for): ENDs waiting go out with it now. */
  must(): void {
    this.wake?.()
  }

  /** No more waiting (closing: what is queued is written on the way out). */
  release(): void {
    this.released = true
    this.wake?.()
  }
}
