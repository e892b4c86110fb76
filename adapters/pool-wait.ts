// Waiting for a pooled connection, bounded by the caller as well as by time.
// A transaction rolled back while its branch waits for a connection (the
// deadline reaper, a Rollback) must not keep waiting until the resource's
// connectTimeoutMs and then start a branch nobody will use.

export interface PoolWaitOptions<C> {
  /** Gives up when it aborts (the caller's transaction ended). */
  readonly signal?: AbortSignal | undefined
  /** Gives up after `ms` (none: the pool bounds the wait itself). */
  readonly timeout?: { readonly ms: number; readonly error: () => Error }
  readonly abortError: () => Error
  /** Where a connection that arrives after giving up goes: back to its pool. */
  readonly giveBack: (connection: C) => void
}

/** `got` (a pool's pending checkout), or the error of whichever limit comes first. */
export function waitForConnection<C>(got: Promise<C>, o: PoolWaitOptions<C>): Promise<C> {
  return new Promise<C>((resolve, reject) => {
    let settled = false
    let timer: NodeJS.Timeout | undefined
    const onAbort = (): void => void settle(() => reject(o.abortError()))
    const settle = (finish: () => void): boolean => {
      if (settled) return false
      settled = true
      clearTimeout(timer)
      o.signal?.removeEventListener('abort', onAbort)
      finish()
      return true
    }
    if (o.signal?.aborted === true) onAbort()
    else o.signal?.addEventListener('abort', onAbort, { once: true })
    const timeout = o.timeout
    if (timeout !== undefined && !settled) timer = setTimeout(() => void settle(() => reject(timeout.error())), timeout.ms)
    got.then(
      (connection) => {
        if (!settle(() => resolve(connection))) o.giveBack(connection)
      },
      (error: unknown) => void settle(() => reject(error instanceof Error ? error : new Error(String(error)))),
    )
  })
}
