// Each caller's share of a resource's session pool (issue #21, fairness).
// A managed branch holds one pooled session from its first statement until
// phase 2 or rollback, so a caller within its active-transaction limit could
// still hold every session of a pool with idle transactions: the other
// callers' statements then waited the resource's connectTimeoutMs and rolled
// back ("no connection within 5000 ms"). Here a caller holds at most its
// share of each pool (at least one session); past it, its next branch waits
// for one of its own sessions to come back, as long as the pool itself would
// let it wait, and then fails naming the option. Sessions beyond a caller's
// share stay free for the others.
import { AdapterError } from '../../adapters/types.js'
import type { BranchSession } from '../../adapters/types.js'

export interface PoolShare {
  /** Sessions this caller may hold of the pool at once. */
  readonly sessions: number
  /** The fraction and the config option it came from, for the error. */
  readonly fraction: number
  readonly option: string
}

interface Holder {
  held: number
  readonly waiting: (() => void)[]
}

export interface ShareWait {
  readonly signal?: AbortSignal | undefined
  readonly timeoutMs: number
}

export class PoolShares {
  private readonly holders = new Map<string, Holder>()

  /** The sessions `caller` holds of `resource` now (for tests and the admin view). */
  held(resource: string, caller: string): number {
    return this.holders.get(key(resource, caller))?.held ?? 0
  }

  /**
   * Begins a branch through `begin` once `caller` holds fewer than its share
   * of `resource`'s sessions; the session it returns gives the share back
   * when it is released (or when it could not be begun at all).
   */
  async begin(resource: string, caller: string, share: PoolShare, wait: ShareWait, begin: () => Promise<BranchSession>): Promise<BranchSession> {
    const k = key(resource, caller)
    const holder = this.holders.get(k) ?? { held: 0, waiting: [] }
    this.holders.set(k, holder)
    if (holder.held >= share.sessions) await this.waitTurn(holder, resource, caller, share, wait)
    else holder.held++
    let given = false
    const giveBack = (): void => {
      if (given) return
      given = true
      const next = holder.waiting.shift()
      if (next) next() // the slot passes to the next waiter: held stays
      else if (--holder.held === 0) this.holders.delete(k)
    }
    let session: BranchSession
    try {
      session = await begin()
    } catch (error) {
      giveBack()
      throw error
    }
    const release = session.release.bind(session)
    // The one place every branch's session ends: phase 2, rollback, and a failed prepare all release it.
    session.release = async () => {
      try {
        await release()
      } finally {
        giveBack()
      }
    }
    return session
  }

  private waitTurn(holder: Holder, resource: string, caller: string, share: PoolShare, wait: ShareWait): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const turn = (): void => {
        clearTimeout(timer)
        wait.signal?.removeEventListener('abort', onAbort)
        resolve()
      }
      const leave = (error: Error): void => {
        const at = holder.waiting.indexOf(turn)
        if (at >= 0) holder.waiting.splice(at, 1)
        clearTimeout(timer)
        wait.signal?.removeEventListener('abort', onAbort)
        reject(error)
      }
      const onAbort = (): void => leave(new AdapterError('retryable', resource, 'begin: the transaction ended while waiting for a connection'))
      const timer = setTimeout(
        () =>
          leave(
            new AdapterError(
              'retryable',
              resource,
              `begin: caller "${caller}" holds ${holder.held} of "${resource}"'s sessions, its share ` +
                `(${share.fraction} of the pool, ${share.option}), and none came back within ${wait.timeoutMs} ms: ` +
                'finish or roll back its open transactions sooner, or raise the share',
            ),
          ),
        wait.timeoutMs,
      )
      if (wait.signal?.aborted === true) return onAbort()
      wait.signal?.addEventListener('abort', onAbort, { once: true })
      holder.waiting.push(turn)
    })
  }
}

function key(resource: string, caller: string): string {
  return `${resource}\u0000${caller}`
}

/** A caller's share of a pool of `poolSize` sessions: the fraction of it, rounded down, and never under one session. */
export function shareOf(poolSize: number, fraction: number, option: string): PoolShare {
  return { sessions: Math.max(1, Math.floor(poolSize * fraction)), fraction, option }
}
