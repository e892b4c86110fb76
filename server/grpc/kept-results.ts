// Run results kept for a repeated Run (transaction-manager-service.ts), within bounds.
/**
 * Results of named Runs kept for a repeat of a Run whose answer was lost: at
 * most 1 MiB each, for a minute (a client asks again within seconds), and
 * 64 MiB in all, so callers cannot fill the TM's memory with them (found by
 * review: 10,000 retained transactions times 1 MiB).
 */
export class KeptResults {
  private bytes = 0
  constructor(
    private readonly maxEach = 1024 * 1024,
    private readonly maxTotal = 64 * 1024 * 1024,
    private readonly keepMs = 60_000,
  ) {}

  /** True when `size` bytes may be kept; `drop` runs when their time is up. */
  take(size: number, drop: () => void): boolean {
    if (size > this.maxEach || this.bytes + size > this.maxTotal) return false
    this.bytes += size
    setTimeout(() => {
      this.bytes -= size
      drop()
    }, this.keepMs).unref()
    return true
  }
}
