// The group-commit loop both decision-log stores share: one flush at a time,
// each writing batches until the queue is empty. A record queued after the
// loop's last look at the queue, but before the loop ended, would find it
// still running and wait for ever: the loop starts again when it ends with
// records waiting.
export class FlushLoop {
  private running: Promise<void> | undefined

  constructor(
    /** Writes batches until the queue is empty. */
    private readonly flush: () => Promise<void>,
    private readonly hasQueued: () => boolean,
  ) {}

  /** Starts a flush unless one is running (that one takes what was queued). */
  start(): void {
    this.running ??= this.flush().finally(() => {
      this.running = undefined
      if (this.hasQueued()) this.start()
    })
  }

  /** Resolves once no flush runs, including those started as earlier ones ended. */
  async idle(): Promise<void> {
    while (this.running) await this.running
  }
}
