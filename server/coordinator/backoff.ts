// Retry delays for phase 2 and cleanup: exponential with full jitter, capped,
// so many in-doubt branches on a recovering server do not retry in lockstep.

export interface BackoffOptions {
  /** First delay's upper bound (default 50 ms). */
  readonly baseMs?: number
  /** Largest delay (default 5 s). */
  readonly capMs?: number
}

export function backoffDelay(attempt: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 50
  const cap = options.capMs ?? 5000
  const ceiling = Math.min(cap, base * 2 ** Math.min(attempt, 20))
  return Math.ceil(ceiling / 2 + Math.random() * (ceiling / 2))
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve()
    const timer = setTimeout(done, ms)
    function done(): void {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    signal?.addEventListener('abort', done, { once: true })
  })
}
