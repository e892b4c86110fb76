// The resources the TM may coordinate, by name. A resource that is down at
// start-up does not stop the TM: it is initialised again in the background
// and its calls get UNAVAILABLE meanwhile.
import type { ResourceAdapter } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import type { Logger } from '../logger.js'
import { backoffDelay } from './backoff.js'

interface Entry {
  readonly adapter: ResourceAdapter
  ready: boolean
  lastError: string | undefined
  initializing: Promise<void> | undefined
}

export class ResourceRegistry {
  private readonly entries = new Map<string, Entry>()
  private closed = false

  constructor(
    adapters: readonly ResourceAdapter[],
    private readonly logger: Logger,
  ) {
    for (const adapter of adapters) {
      this.entries.set(adapter.name, { adapter, ready: false, lastError: undefined, initializing: undefined })
    }
  }

  /** Initialises every resource; waits at most `waitMs` before leaving the slow ones to the background. */
  async initAll(waitMs: number): Promise<void> {
    const all = [...this.entries.values()].map((e) => this.initInBackground(e))
    await Promise.race([Promise.all(all), new Promise((resolve) => setTimeout(resolve, waitMs).unref())])
  }

  private initInBackground(entry: Entry): Promise<void> {
    entry.initializing ??= (async () => {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await entry.adapter.init()
          entry.ready = true
          entry.lastError = undefined
          this.logger.info({ resource: entry.adapter.name, kind: entry.adapter.kind }, 'resource ready')
          return
        } catch (error) {
          entry.lastError = error instanceof Error ? error.message : String(error)
          this.logger.warn({ resource: entry.adapter.name, err: entry.lastError, attempt }, 'resource not ready, retrying')
          await new Promise((resolve) => setTimeout(resolve, backoffDelay(attempt, { baseMs: 200, capMs: 10_000 })).unref())
        }
      }
    })().finally(() => (entry.initializing = undefined))
    return entry.initializing
  }

  has(name: string): boolean {
    return this.entries.has(name)
  }

  /** The adapter for new work; INVALID_ARGUMENT for an unknown name, UNAVAILABLE while it is down. */
  require(name: string): ResourceAdapter {
    const entry = this.entries.get(name)
    if (!entry) {
      throw new TmError('TM_INVALID_ARGUMENT', `unknown resource "${name}" (configured: ${this.names().join(', ') || 'none'})`)
    }
    if (!entry.ready) {
      throw new TmError('TM_RM_UNAVAILABLE', `resource "${name}" is not available: ${entry.lastError ?? 'still connecting'}`)
    }
    return entry.adapter
  }

  /** The adapter whatever its state (phase 2 and recovery retry on their own). */
  adapter(name: string): ResourceAdapter | undefined {
    return this.entries.get(name)?.adapter
  }

  isReady(name: string): boolean {
    return this.entries.get(name)?.ready ?? false
  }

  lastError(name: string): string | undefined {
    return this.entries.get(name)?.lastError
  }

  names(): string[] {
    return [...this.entries.keys()]
  }

  all(): ResourceAdapter[] {
    return [...this.entries.values()].map((e) => e.adapter)
  }

  async closeAll(): Promise<void> {
    this.closed = true
    await Promise.allSettled([...this.entries.values()].map((e) => e.adapter.close()))
  }
}
