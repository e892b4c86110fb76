// Whether the decision log's folder takes writes now: what /readyz needs to
// say "a Commit sent now can be decided" (a full disk refuses every decision
// while the process and the log's index are fine). The log reports each of
// its own writes; between them, and to notice when space comes back, a probe
// writes, syncs and deletes a small file in the same folder.
import { open, rm } from 'node:fs/promises'
import { join } from 'node:path'

const PROBE_FILE = '.write-probe'
const PROBE_BYTES = 4096

export class WriteProbe {
  private currentProblem: string | undefined
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined

  constructor(
    private readonly dir: string,
    /** How often the folder is probed (a full disk shows in /readyz at most this late). */
    private readonly intervalMs = 2000,
  ) {}

  /** Why the log cannot write now, or undefined when it can. */
  get problem(): string | undefined {
    return this.currentProblem
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The log's own write: a failure shows at once, a success clears an earlier one. */
  wrote(error?: unknown): void {
    this.currentProblem = error === undefined ? undefined : `the decision log cannot write: ${error instanceof Error ? error.message : JSON.stringify(error)}`
  }

  /** Writes, syncs and deletes a small file in the log's folder. */
  check(): Promise<void> {
    this.checking ??= (async () => {
      const path = join(this.dir, PROBE_FILE)
      try {
        const file = await open(path, 'w')
        try {
          await file.write(Buffer.alloc(PROBE_BYTES))
          await file.datasync()
        } finally {
          await file.close()
        }
        this.currentProblem = undefined
      } catch (error) {
        this.wrote(error)
      } finally {
        await rm(path, { force: true }).catch(() => undefined)
        this.checking = undefined
      }
    })()
    return this.checking
  }
}
