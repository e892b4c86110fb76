// The nemesis's scheduler: several fault streams at once, so one run
// injects many faults and they overlap (a node killed while the store is
// paused, a database killed while another node is frozen), as in a bad hour
// of a real deployment. Two faults never act on the same target at once.
// A graceful restart runs alone, after the other faults' aftermath has
// passed: the transfers around it are then judged on it alone.
import { AFTERMATH_MS, GRACEFUL_FAULTS, inject, targetOf, type FaultKind, type FaultTargets } from './faults.js'
import type { Prng } from './prng.js'

export interface FaultWindow {
  readonly kind: FaultKind
  /** The node a TM fault acted on. */
  readonly node: number
  /** Date.now() when the fault began and when it was healed (the TM back, the server resumed…). */
  readonly start: number
  readonly end: number
}

export interface ScheduleOptions {
  readonly kinds: readonly FaultKind[]
  /** How many faults may be in flight at once. */
  readonly streams: number
  /** Each stream waits this long (ms, uniformly at random) between its faults. */
  readonly gapMs: readonly [number, number]
  /** At most one graceful restart this often (each costs AFTERMATH_MS of quiet before it). */
  readonly gracefulEveryMs: number
  /** False once no fault may begin. */
  readonly going: () => boolean
  readonly onInjected?: () => void
  readonly startedAt: number
  readonly targets: FaultTargets
  readonly random: Prng
  readonly log: (line: string) => void
}

export interface ScheduleResult {
  readonly counts: Partial<Record<FaultKind, number>>
  readonly windows: readonly FaultWindow[]
  /** Faults after which the system misbehaved (the scheduler stops at the first). */
  readonly failures: readonly string[]
}

const QUIET_BEFORE_GRACEFUL_MS = 2000

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

function shuffled<T>(items: readonly T[], random: Prng): T[] {
  const out = [...items]
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i)
    ;[out[i], out[j]] = [out[j]!, out[i]!]
  }
  return out
}

export async function runFaults(o: ScheduleOptions): Promise<ScheduleResult> {
  const counts: Partial<Record<FaultKind, number>> = {}
  const windows: FaultWindow[] = []
  const failures: string[] = []
  const busy = new Set<string>()
  let exclusive = false
  let lastGraceful = -Infinity
  const going = (): boolean => o.going() && failures.length === 0
  // Kinds dealt from a shuffled deck: every kind comes up once per round, whatever the seed.
  let deck: FaultKind[] = []
  const deal = (): FaultKind => {
    if (deck.length === 0) deck = shuffled(o.kinds, o.random)
    return deck.pop()!
  }

  const stream = async (): Promise<void> => {
    while (going()) {
      await sleep(o.random.int(o.gapMs[0], o.gapMs[1]))
      while (exclusive && going()) await sleep(100)
      if (!going()) break
      const kind = deal()
      const node = o.random.int(0, o.targets.nodes.length - 1)
      const target = targetOf(kind, node)
      if (busy.has(target)) {
        deck.unshift(kind) // dealt again later
        continue
      }
      const graceful = GRACEFUL_FAULTS.has(kind)
      if (graceful) {
        if (Date.now() - lastGraceful < o.gracefulEveryMs) continue // its turn comes again next round
        lastGraceful = Date.now()
        exclusive = true
        // Let every other fault heal and its aftermath pass first.
        while (busy.size > 0) await sleep(50)
        const lastRough = Math.max(0, ...windows.filter((w) => !GRACEFUL_FAULTS.has(w.kind)).map((w) => w.end))
        // And a little longer: transfers that begin in the quiet are the ones the restart is judged on.
        await sleep(Math.max(0, lastRough + AFTERMATH_MS + QUIET_BEFORE_GRACEFUL_MS - Date.now()))
        if (!going()) {
          exclusive = false
          break
        }
      }
      // A node that died by itself is reported by the run; no fault acts on it.
      if (kind.startsWith('tm-') && !o.targets.nodes[node]!.running) {
        exclusive = false
        continue
      }
      counts[kind] = (counts[kind] ?? 0) + 1
      o.onInjected?.()
      busy.add(target)
      const start = Date.now()
      o.log(`nemesis: ${kind}${kind.startsWith('tm-') && o.targets.nodes.length > 1 ? ` on node ${node}` : ''} at ${start - o.startedAt} ms`)
      try {
        await inject(kind, node, o.targets, o.random)
      } catch (error) {
        failures.push(`${kind} at ${start - o.startedAt} ms: ${error instanceof Error ? error.message : String(error)}`)
      } finally {
        windows.push({ kind, node, start, end: Date.now() })
        busy.delete(target)
        if (graceful) exclusive = false
      }
    }
  }
  await Promise.all(Array.from({ length: o.streams }, stream))
  return { counts, windows, failures }
}
