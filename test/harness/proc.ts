// Process plumbing for the harness: free ports, process trees, log tails,
// and the safety nets that remove servers and temp folders when a run ends
// badly (exit handlers in this process, a watchdog outside it).
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
export { sleep }

/** Resolves with the promise's value, or with 'timeout' after ms (the timer is cleared either way). */
export async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined
  const t = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms)
  })
  try {
    return await Promise.race([p, t])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * A free TCP port on 127.0.0.1, chosen below the kernel's ephemeral range
 * (32768–60999 on Linux). A port the kernel hands out for port 0 is in that
 * range, where every outgoing connection also takes its local port: one that
 * landed on the port between this check and the caller's listen made the
 * listen fail with EADDRINUSE (seen in a full run). Below it, only another
 * caller of this picking the same port at random can take it first. Callers
 * still retry where they can.
 */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000)
    if (await canListen(port)) return port
  }
  return kernelPort()
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', () => resolve(false))
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)))
  })
}

/** The kernel's choice (bind port 0, read it, close). */
function kernelPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

interface ProcStat { pid: number; ppid: number; pgrp: number; state: string }

function readStat(pid: number): ProcStat | undefined {
  let line: string
  try {
    line = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
  } catch {
    return undefined
  }
  // comm may contain spaces and parentheses: the fields we want follow the last ')'.
  const rest = line.slice(line.lastIndexOf(')') + 2).split(' ')
  return { pid, state: rest[0] ?? '?', ppid: Number(rest[1]), pgrp: Number(rest[2]) }
}

function allStats(): ProcStat[] {
  let names: string[]
  try {
    names = fs.readdirSync('/proc')
  } catch {
    return []
  }
  const out: ProcStat[] = []
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue
    const s = readStat(Number(n))
    if (s !== undefined) out.push(s)
  }
  return out
}

/** True while the process exists and is not a zombie (pid 1 in a container may never reap). */
export function isAlive(pid: number): boolean {
  const s = readStat(pid)
  if (s === undefined) {
    if (fs.existsSync('/proc/self/stat')) return false
    try {
      process.kill(pid, 0)
      return true
    } catch {
      return false
    }
  }
  return s.state !== 'Z' && s.state !== 'X'
}

/**
 * The server's processes: the main pid, everything descended from it, and its
 * process group. PostgreSQL backends call setsid(), so the group alone misses them.
 */
export function processTree(rootPid: number): number[] {
  const stats = allStats()
  const tree = new Set<number>([rootPid])
  let grew = true
  while (grew) {
    grew = false
    for (const s of stats) {
      if (!tree.has(s.pid) && (tree.has(s.ppid) || s.pgrp === rootPid)) {
        tree.add(s.pid)
        grew = true
      }
    }
  }
  return [...tree].filter((pid) => isAlive(pid))
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig)
  } catch {
    // already gone
  }
}

/**
 * Signals the main process and all its descendants. For STOP and KILL the root
 * is stopped first so it cannot fork new children while we enumerate them.
 * Returns the pids signalled.
 */
export function signalTree(rootPid: number, sig: NodeJS.Signals): number[] {
  if (sig === 'SIGKILL' || sig === 'SIGSTOP') signal(rootPid, 'SIGSTOP')
  const pids = processTree(rootPid)
  for (const pid of pids) if (pid !== rootPid) signal(pid, sig)
  signal(rootPid, sig)
  return pids
}

/**
 * Resolves true once every live pid shows state T (stopped), false after
 * timeoutMs. SIGSTOP is only queued by kill(): a fault test must not send
 * its next request before the server has really stopped.
 */
export async function waitAllStopped(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const stopped = (pid: number): boolean => {
      const s = readStat(pid)
      return s === undefined || s.state === 'T' || s.state === 'Z' || s.state === 'X'
    }
    if (pids.every(stopped)) return true
    if (Date.now() > deadline) return false
    await sleep(5)
  }
}

/** Resolves true once none of the pids is alive, false after timeoutMs. */
export async function waitAllGone(pids: number[], timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (pids.every((p) => !isAlive(p))) return true
    if (Date.now() > deadline) return false
    await sleep(25)
  }
}

/** Last lines of a log file, indented, for error messages. */
export function logTail(file: string, lines = 25): string {
  let text: string
  try {
    text = fs.readFileSync(file, 'utf8')
  } catch {
    return '  (no log file)'
  }
  const tail = text.trimEnd().split('\n').slice(-lines)
  return tail.length === 0 || (tail.length === 1 && tail[0] === '') ? '  (log is empty)' : tail.map((l) => `  | ${l}`).join('\n')
}

// ---------------------------------------------------------------------------
// Cleanup when the run ends: every server started by this process registers
// here; exit and signal handlers kill them and remove their folders
// synchronously, and a detached watchdog does the same if this process dies
// without running its handlers (SIGKILL, OOM).

export interface Tracked {
  dir: string
  /** Main pid while running. */
  pid(): number | undefined
  /** Synchronous best-effort cleanup of leftovers such as System V shared memory. */
  cleanupSync(): void
}

const tracked = new Set<Tracked>()
let handlersInstalled = false

export function track(t: Tracked): void {
  installHandlers()
  tracked.add(t)
  startWatchdog(t.dir)
}

export function untrack(t: Tracked): void {
  tracked.delete(t)
}

/** Kills every tracked server and removes its folder, synchronously. */
export function cleanupAllSync(): void {
  for (const t of tracked) {
    const pid = t.pid()
    if (pid !== undefined) signalTree(pid, 'SIGKILL')
  }
  for (const t of tracked) {
    try {
      t.cleanupSync()
    } catch {
      // best effort
    }
    try {
      fs.rmSync(t.dir, { recursive: true, force: true, maxRetries: 3, retryDelay: 50 })
    } catch {
      // the watchdog retries
    }
  }
  tracked.clear()
}

function installHandlers(): void {
  if (handlersInstalled) return
  handlersInstalled = true
  process.on('exit', cleanupAllSync)
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = (): void => {
      cleanupAllSync()
      process.off(sig, onSignal)
      // Keep the default behaviour (die by the signal) unless someone else handles it.
      if (process.listenerCount(sig) === 0) process.kill(process.pid, sig)
    }
    process.on(sig, onSignal)
  }
}

// The watchdog is a tiny detached shell loop, one per server folder. It
// exits when the folder is gone (normal destroy). If this process dies first,
// it kills the server (pid from harness.pid, plus its children) and removes the folder.
const WATCHDOG = `
parent=$1; dir=$2
trap '' INT TERM HUP
alive() { [ -r "/proc/$1/stat" ] || return 1; read -r l < "/proc/$1/stat" || return 1; r=\${l##*) }; case "$r" in Z*|X*) return 1;; esac; return 0; }
killkids() {
  want=$1
  for s in /proc/[0-9]*/stat; do
    read -r l < "$s" 2>/dev/null || continue
    r=\${l##*) }
    set -f; set -- $r; set +f
    p=\${s#/proc/}; p=\${p%/stat}
    # Children first (the root stays alive, stopped, so they keep it as parent).
    if [ "$p" != "$want" ] && { [ "$2" = "$want" ] || [ "$3" = "$want" ]; }; then kill -s KILL "$p" 2>/dev/null; fi
  done
}
while [ -d "$dir" ]; do
  if ! alive "$parent"; then
    pid=$(cat "$dir/harness.pid" 2>/dev/null)
    if [ -n "$pid" ] && alive "$pid"; then kill -s STOP "$pid" 2>/dev/null; killkids "$pid"; kill -s KILL "$pid" 2>/dev/null; fi
    if [ -f "$dir/data/postmaster.pid" ]; then shm=$(sed -n 7p "$dir/data/postmaster.pid" | awk '{print $2}'); [ -n "$shm" ] && ipcrm -m "$shm" 2>/dev/null; fi
    sleep 1
    rm -rf "$dir"
    exit 0
  fi
  sleep 1
done
`

function startWatchdog(dir: string): void {
  if (process.env.ARBITER_HARNESS_NO_WATCHDOG === '1') return
  try {
    const trace = process.env.ARBITER_HARNESS_WATCHDOG_TRACE
    const script = trace !== undefined ? `exec 2>>${trace}; set -x\n${WATCHDOG}` : WATCHDOG
    const child = spawn('/bin/sh', ['-c', script, 'arbiter-harness-watchdog', String(process.pid), dir], {
      detached: true,
      stdio: 'ignore',
    })
    child.on('error', () => undefined)
    child.unref()
  } catch {
    // no /bin/sh: the exit handlers still clean up
  }
}

/** Records the server's main pid where the watchdog can read it. */
export function writePidFile(dir: string, pid: number): void {
  fs.writeFileSync(path.join(dir, 'harness.pid'), `${pid}\n`)
}
