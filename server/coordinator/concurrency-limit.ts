// At most `limit` tasks at once; the rest wait in order. For work that comes
// in bulk and shares the pools with live traffic: the decisions a restart or
// a takeover adopts (found by hostile testing: 20 000 adopted at once starved
// every pool, the first recovery pass saw the resources as unreachable, the
// node took 35 s to listen and logged 61 000 warnings).
export class ConcurrencyLimit {
  private running = 0
  private readonly waiting: (() => void)[] = []

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve))
    this.running++
    try {
      return await task()
    } finally {
      this.running--
      this.waiting.shift()?.()
    }
  }

  /** Tasks waiting for a turn. */
  get queued(): number {
    return this.waiting.length
  }
}
