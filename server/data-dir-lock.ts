// One TM per data folder: a second process on the same decision log would
// interleave records and presume aborts the first one is committing.
//
// The lock is the file LOCK, holding who owns it: pid, the process's start
// time, its PID namespace and the machine's boot id. Its owner touches it
// every HEARTBEAT_MS. A lock is stale, and taken over, when that can be
// proven:
// - from the same boot and PID namespace: its pid is gone, a zombie, or now
//   another process (start time differs: pids are reused after a reboot of
//   the container or a long uptime);
// - from anywhere else (two containers on one volume are both pid 1, a
//   rolling update starts the new pod before the old one stops): when it is
//   not touched while it is watched here for WATCH_MS (its mtime compared
//   for change only: the holder's clock may differ from ours).
// The holder checks at each heartbeat that the lock is still its own; a lock
// taken from it (it was frozen past WATCH_MS) is reported (onLost), and the
// node stops writing its log.
// Found by hostile testing: a bare pid let two containers on one volume both
// hold the lock (each saw its own pid 1) and overwrite each other's
// acknowledged decisions; two starters racing for a stale lock could both win.
import { randomUUID } from 'node:crypto'
import { linkSync, readFileSync, readlinkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { mkdir, readFile, utimes } from 'node:fs/promises'
import { join } from 'node:path'

export const HEARTBEAT_MS = 1000
/** How long a lock from elsewhere is watched for a heartbeat before it is judged stale. */
export const WATCH_MS = 3 * HEARTBEAT_MS

interface Owner {
  readonly pid: number
  /** /proc/<pid>/stat field 22 (clock ticks since boot): tells a reused pid from its first process. */
  readonly started?: string
  readonly pidNamespace?: string
  readonly bootId?: string
  readonly token: string
}

/**
 * Locks `dir` for this process; resolves the release. `onLost` runs when the
 * lock is found taken by another process while held (this one was frozen
 * past WATCH_MS): from then on two writers share the folder.
 */
export async function lockDataDir(dir: string, onLost: (why: string) => void = () => undefined): Promise<() => void> {
  await mkdir(dir, { recursive: true })
  const path = join(dir, 'LOCK')
  const me: Owner = { pid: process.pid, ...identity(process.pid), token: randomUUID() }
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      writeFileSync(path, JSON.stringify(me), { flag: 'wx' })
      return holding(path, me, onLost)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw lockError(path, error)
    }
    const judged = readLock(path)
    if (judged === undefined) continue // gone meanwhile: try again
    const why = await inUse(path, judged)
    if (why !== undefined) {
      throw new Error(
        `data folder ${dir} is in use by another Arbiter process (${why}); one TM per decision log. ` +
          `If no such process runs, delete ${path}`,
      )
    }
    takeOver(path, judged.text)
  }
  throw new Error(`could not lock data folder ${dir}: ${path} kept changing (another process starting on it?)`)
}

/** Heartbeat while held (asynchronous: a stalled volume must not stall the node); the release deletes the file only while it is still ours. */
function holding(path: string, me: Owner, onLost: (why: string) => void): () => void {
  let lost = false
  const beat = async (): Promise<void> => {
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch {
      return // unreadable now (a stalled or gone volume): the next beat looks again
    }
    if (parseOwner(text)?.token !== me.token) {
      if (!lost) onLost(`${path} now names another process (${describe(parseOwner(text))}): it took the lock while this one did not answer`)
      lost = true
      return
    }
    const now = new Date()
    await utimes(path, now, now).catch(() => undefined)
  }
  const timer = setInterval(() => void beat(), HEARTBEAT_MS)
  timer.unref()
  return () => {
    clearInterval(timer)
    if (readLock(path)?.owner?.token === me.token) rmSync(path, { force: true })
  }
}

function readLock(path: string): { text: string; owner: Owner | undefined } | undefined {
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw lockError(path, error)
  }
  return { text, owner: parseOwner(text) }
}

/** Why the lock is held (undefined: stale). */
async function inUse(path: string, judged: { text: string; owner: Owner | undefined }): Promise<string | undefined> {
  const { owner } = judged
  const here = identity(process.pid)
  // Written by an earlier version (a bare pid, never touched): judged by its pid, as that version did.
  if (owner !== undefined && owner.token === '') return owner.pid !== process.pid && isAlive(owner.pid) ? `pid ${owner.pid}` : undefined
  if (owner !== undefined && owner.bootId !== undefined && owner.bootId === here.bootId && owner.pidNamespace === here.pidNamespace) {
    if (owner.pid === process.pid) return undefined // ours from an earlier run: this process is not it
    if (!isAlive(owner.pid)) return undefined
    const started = identity(owner.pid).started
    if (owner.started !== undefined && started !== undefined && started !== owner.started) return undefined // pid reused
    return `pid ${owner.pid}`
  }
  // Another machine or container: only its heartbeat tells. Watched for WATCH_MS, whatever its mtime says (the
  // holder's clock may run behind ours: found by review, a live lock 6 s behind was judged stale at once).
  const seen = mtimeOf(path)
  if (seen === undefined) return undefined
  await new Promise((resolve) => setTimeout(resolve, WATCH_MS))
  const after = mtimeOf(path)
  if (after !== undefined && after !== seen) return `${describe(owner)}, touched while watched`
  return undefined
}

/**
 * Moves the stale lock aside under a name of its own (rename is atomic: one
 * starter wins), then makes sure what was moved is what was judged stale; a
 * lock another starter made meanwhile is put back.
 */
function takeOver(path: string, judgedText: string): void {
  const aside = `${path}.stale-${randomUUID()}`
  try {
    renameSync(path, aside)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return // another starter moved it: the next attempt sees
    throw lockError(path, error)
  }
  if (readFileSync(aside, 'utf8') === judgedText) {
    rmSync(aside, { force: true })
    return
  }
  try {
    linkSync(aside, path) // someone else's fresh lock: theirs again (the next attempt sees it held); never over a newer one
  } catch {
    // a third starter made one meanwhile: theirs stands, and the next attempt judges it
  }
  rmSync(aside, { force: true })
}

function parseOwner(text: string): Owner | undefined {
  const bare = Number(text.trim())
  if (Number.isInteger(bare) && bare > 0) return { pid: bare, token: '' } // written by an earlier version
  try {
    const o = JSON.parse(text) as Partial<Owner>
    return typeof o.pid === 'number' && typeof o.token === 'string' ? (o as Owner) : undefined
  } catch {
    return undefined
  }
}

function identity(pid: number): { started?: string; pidNamespace?: string; bootId?: string } {
  const read = (f: () => string): string | undefined => {
    try {
      return f()
    } catch {
      return undefined // not Linux, or gone
    }
  }
  return {
    ...optional('started', read(() => statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[19]!)),
    ...optional('pidNamespace', read(() => readlinkSync('/proc/self/ns/pid'))),
    ...optional('bootId', read(() => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim())),
  }
}

function optional<K extends string>(key: K, value: string | undefined): Partial<Record<K, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, string>)
}

/** Fields of /proc/<pid>/stat after the command name (which may hold spaces): [0] is the state. */
function statFields(stat: string): string[] {
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')
}

function mtimeOf(path: string): number | undefined {
  try {
    return statSync(path).mtimeMs
  } catch {
    return undefined
  }
}

function describe(owner: Owner | undefined): string {
  return owner === undefined ? 'an unreadable lock' : `pid ${owner.pid} in another container or machine`
}

function lockError(path: string, error: unknown): Error {
  return new Error(`cannot use the data folder's lock file ${path}: ${(error as Error).message}`, { cause: error })
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie (killed, not yet reaped) still answers kill(pid, 0) but holds nothing.
  try {
    return statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[0] !== 'Z'
  } catch {
    return true // no /proc (not Linux): trust kill()
  }
}
