// A database server process owned by the harness: start, readiness polling,
// stop/kill/pause/resume/restart/destroy, and clean failure messages.
// postgres.ts, mariadb.ts and redis.ts describe their server with a ServerSpec.
import { spawn, type ChildProcess } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { freePort, logTail, signalTree, sleep, track, untrack, waitAllGone, waitAllStopped, withTimeout, writePidFile, type Tracked } from './proc.js'
import { HarnessStartError, PRETTY, type ServerKind, type TestServer } from './types.js'

export interface SpawnSpec {
  command: string
  args: string[]
  uid?: number
  gid?: number
  env?: NodeJS.ProcessEnv
}

export interface ServerSpec {
  kind: ServerKind
  /** Temp folder owned by this server (removed by destroy). */
  dir: string
  /** The URL for a given port. */
  url(port: number): string
  /** The command that runs the server in the foreground on this port. */
  spawn(port: number): SpawnSpec
  /** Throws unless the server on this port answers and is really ours (not some other server on the port). */
  probe(port: number, timeoutMs: number): Promise<void>
  /** Runs once after the first successful start (e.g. create database `test`). */
  afterFirstStart?(port: number): Promise<void>
  /** Signal for a clean shutdown that keeps data (PostgreSQL: SIGINT = fast shutdown). */
  stopSignal: NodeJS.Signals
  /**
   * Signal for destroy(): a quick shutdown that may lose data. Default SIGKILL.
   * PostgreSQL uses SIGQUIT (immediate shutdown): the postmaster reaps its
   * backends and removes its shared memory, where SIGKILL would orphan them.
   */
  destroySignal?: NodeJS.Signals
  /** Synchronous cleanup after the processes are gone (PostgreSQL: its System V shared memory segment). */
  cleanupSync?(): void
}

export interface StartOptions {
  /** Fixed port; when unset a free one is chosen (and re-chosen if another process takes it first). */
  port?: number
  /** Fail when not ready after this long. Default 30 s. */
  startTimeoutMs?: number
}

export const DEFAULT_START_TIMEOUT_MS = 30_000
const STOP_TIMEOUT_MS = 30_000
const PORT_IN_USE = /address already in use|bind: address in use|errno: 98|error: 98/i

export class ManagedServer implements TestServer {
  readonly external = false
  readonly controllable = true
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private exitInfo: string | undefined
  private spawnError: Error | undefined
  private _port = 0
  private destroyed = false
  private readonly logFile: string
  private readonly tracked: Tracked

  constructor(
    private readonly spec: ServerSpec,
    private readonly startTimeoutMs: number = DEFAULT_START_TIMEOUT_MS,
  ) {
    this.logFile = path.join(spec.dir, 'server.log')
    this.tracked = {
      dir: spec.dir,
      pid: () => this.pid,
      cleanupSync: () => spec.cleanupSync?.(),
    }
    track(this.tracked)
  }

  get kind(): ServerKind {
    return this.spec.kind
  }
  get port(): number {
    return this._port
  }
  get url(): string {
    return this.spec.url(this._port)
  }
  get pid(): number | undefined {
    return this.child !== undefined && this.exitInfo === undefined ? this.child.pid : undefined
  }
  /** The server's log file (stdout and stderr of every start). */
  get log(): string {
    return this.logFile
  }

  private get name(): string {
    return `${PRETTY[this.spec.kind]} (port ${this._port}, ${this.spec.dir})`
  }

  /** First start: picks a port (retrying when another process grabs it), waits until ready. */
  async firstStart(opts: StartOptions): Promise<void> {
    const attempts = opts.port === undefined ? 4 : 1
    for (let attempt = 1; ; attempt++) {
      this._port = opts.port ?? (await freePort())
      try {
        await this.startOnce()
        break
      } catch (err) {
        if (err instanceof HarnessStartError && err.reason === 'port-in-use' && attempt < attempts) continue
        await this.destroy()
        throw err
      }
    }
    if (this.spec.afterFirstStart !== undefined) {
      try {
        await this.spec.afterFirstStart(this._port)
      } catch (err) {
        await this.destroy()
        throw new HarnessStartError(`${this.name} started but its setup failed: ${String(err)}\n${logTail(this.logFile)}`, this.kind, 'setup-failed')
      }
    }
  }

  private async startOnce(): Promise<void> {
    if (this.destroyed) throw new Error(`${this.name} was destroyed`)
    const s = this.spec.spawn(this._port)
    const log = fs.openSync(this.logFile, 'a')
    fs.writeSync(log, `\n--- harness: starting ${s.command} ${s.args.join(' ')} at ${new Date().toISOString()}\n`)
    this.exitInfo = undefined
    this.spawnError = undefined
    let child: ChildProcess
    try {
      child = spawn(s.command, s.args, {
        // Own process group: Ctrl-C in the terminal does not reach it directly;
        // the harness decides how it ends (and pause() stops the whole server).
        detached: true,
        stdio: ['ignore', log, log],
        env: s.env ?? process.env,
        ...(s.uid !== undefined ? { uid: s.uid } : {}),
        ...(s.gid !== undefined ? { gid: s.gid } : {}),
      })
    } finally {
      fs.closeSync(log)
    }
    this.child = child
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, sig) => {
        this.exitInfo = sig !== null ? `killed by ${sig}` : `exited with code ${code}`
        resolve()
      })
      child.once('error', (err) => {
        this.spawnError = err
        this.exitInfo = `could not be spawned: ${err.message}`
        resolve()
      })
    })
    if (child.pid !== undefined) writePidFile(this.spec.dir, child.pid)
    await this.waitReady()
  }

  private async waitReady(): Promise<void> {
    const started = Date.now()
    const deadline = started + this.startTimeoutMs
    let lastError: string
    for (;;) {
      if (this.exitInfo !== undefined) {
        const log = logTail(this.logFile)
        const inUse = PORT_IN_USE.test(fs.existsSync(this.logFile) ? fs.readFileSync(this.logFile, 'utf8').slice(-4000) : '')
        const cause = this.spawnError !== undefined
          ? `${this.spec.spawn(this._port).command} ${this.exitInfo}`
          : inUse
            ? `port ${this._port} is already in use by another process`
            : `the server ${this.exitInfo} before it was ready`
        throw new HarnessStartError(`${this.name} failed to start: ${cause}\nlog ${this.logFile}:\n${log}`, this.kind, inUse ? 'port-in-use' : 'exited')
      }
      try {
        await this.spec.probe(this._port, 1000)
        return
      } catch (err) {
        lastError = err instanceof Error ? err.message : String(err)
      }
      if (Date.now() > deadline) {
        await this.killProcesses()
        throw new HarnessStartError(
          `${this.name} was not ready after ${Math.round((Date.now() - started) / 1000)} s (last probe: ${lastError})\nlog ${this.logFile}:\n${logTail(this.logFile)}`,
          this.kind,
          'timeout',
        )
      }
      await sleep(50)
    }
  }

  private async killProcesses(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    const pids = signalTree(pid, 'SIGKILL')
    await Promise.all([this.exited, waitAllGone(pids, 10_000)])
    this.spec.cleanupSync?.()
  }

  async stop(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) return
    // A paused server cannot shut down: continue it first.
    const pids = signalTree(pid, 'SIGCONT')
    process.kill(pid, this.spec.stopSignal)
    const done = await withTimeout(this.exited.then(() => waitAllGone(pids, STOP_TIMEOUT_MS)), STOP_TIMEOUT_MS)
    if (done !== true) await this.killProcesses()
  }

  async kill(): Promise<void> {
    await this.killProcesses()
  }

  async pause(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) throw new Error(`${this.name} is not running`)
    const pids = signalTree(pid, 'SIGSTOP')
    if (!(await waitAllStopped(pids, 2_000))) throw new Error(`${this.name}: SIGSTOP sent, but not every process of it stopped within 2 s`)
  }

  async resume(): Promise<void> {
    const pid = this.pid
    if (pid === undefined) throw new Error(`${this.name} is not running`)
    signalTree(pid, 'SIGCONT')
  }

  async restart(): Promise<void> {
    await this.stop()
    await this.startOnce()
  }

  async destroy(): Promise<void> {
    if (this.destroyed) return
    this.destroyed = true
    // The data is thrown away: no need for a clean shutdown.
    const pid = this.pid
    if (pid !== undefined && this.spec.destroySignal !== undefined && this.spec.destroySignal !== 'SIGKILL') {
      const pids = signalTree(pid, 'SIGCONT')
      process.kill(pid, this.spec.destroySignal)
      await withTimeout(this.exited.then(() => waitAllGone(pids, 5000)), 5000)
    }
    await this.killProcesses()
    untrack(this.tracked)
    fs.rmSync(this.spec.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
  }
}
