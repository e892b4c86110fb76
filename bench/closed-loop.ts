// A closed-loop load: N workers, each starting its next operation as soon as
// the previous one finished, for a fixed time. Latencies of the operations
// that succeeded go into an HDR histogram (microseconds).
import hdr from 'hdr-histogram-js'
import { performance } from 'node:perf_hooks'

export type Histogram = ReturnType<typeof hdr.build>

/** 1 µs … 120 s at 3 significant digits. */
export function newHistogram(): Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 120_000_000, numberOfSignificantValueDigits: 3 })
}

export interface LoopOutcome {
  readonly committed: number
  readonly failures: Record<string, number>
  /** From the start until the last in-flight operation finished. */
  readonly seconds: number
}

export interface LoopOptions {
  readonly concurrency: number
  readonly seconds: number
  readonly op: (worker: number) => Promise<void>
  /** Where successful latencies go (none: not recorded, e.g. a warm-up). */
  readonly histogram?: Histogram
  readonly reason: (error: unknown) => string
}

export async function closedLoop(options: LoopOptions): Promise<LoopOutcome> {
  const start = performance.now()
  const end = start + options.seconds * 1000
  let committed = 0
  const failures: Record<string, number> = {}
  const worker = async (index: number): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now()
      try {
        await options.op(index)
        options.histogram?.recordValue(Math.max(1, Math.round((performance.now() - t0) * 1000)))
        committed++
      } catch (error) {
        const reason = options.reason(error)
        failures[reason] = (failures[reason] ?? 0) + 1
        // A failing system must not turn the loop into a busy spin.
        await new Promise((resolve) => setTimeout(resolve, 5))
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, (_, i) => worker(i)))
  return { committed, failures, seconds: (performance.now() - start) / 1000 }
}

/** Fisher–Yates, in place. */
export function shuffle<T>(items: T[], random: () => number = Math.random): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1))
    ;[items[i], items[j]] = [items[j]!, items[i]!]
  }
  return items
}
