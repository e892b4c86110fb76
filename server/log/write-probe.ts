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
  /** What the log's own last write said, and what the last probe said: each clears only its own. */
  private logProblem: string | undefined
  private probeProblem: string | undefined
  private timer: NodeJS.Timeout | undefined
  private checking: Promise<void> | undefined

  constructor(
    private readonly dir: string,
    /** How often the folder is probed (a full disk shows in /readyz at most this late). */
    private readonly intervalMs = 2000,
  ) {}

  /**
   * Why the log cannot write now, or undefined when it can. The probe's
   * finding holds until a probe succeeds: a log write that still fits in
   * space already allocated to its segment does not mean the disk has room
   * (/readyz flapped to 200 with every such commit on a full disk).
   */
  get problem(): string | undefined {
    return this.logProblem ?? this.probeProblem
  }

  start(): void {
    this.timer ??= setInterval(() => void this.check(), this.intervalMs).unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.timer = undefined
  }

  /** The log's own write: a failure shows at once, a success clears an earlier failure of the log's. */
  wrote(error?: unknown): void {
    this.logProblem = error === undefined ? undefined : cannotWrite(error)
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
        // Room again: what the log last failed on is worth a new try too.
        this.probeProblem = undefined
        this.logProblem = undefined
      } catch (error) {
        this.probeProblem = cannotWrite(error)
      } finally {
        await rm(path, { force: true }).catch(() => undefined)
        this.checking = undefined
      }
    })()
    return this.checking
  }
}

function cannotWrite(error: unknown): string {
  return `the decision log cannot write: ${error instanceof Error ? error.message : JSON.stringify(error)}`
}
