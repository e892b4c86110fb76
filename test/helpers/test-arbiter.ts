// Starts Arbiter for tests: in this process (fast, for most tests) or as a
// child process that a test can SIGKILL and restart on the same data folder.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { freePort } from '../harness/proc.js'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { stringify as toYaml } from 'yaml'
import { parseConfig, type ArbiterConfigInput } from '../../server/config.js'
import { startArbiterServer, type ArbiterServer, type StartOptions } from '../../server/arbiter-server.js'
import { createLogger } from '../../server/logger.js'

const REPO = fileURLToPath(new URL('../..', import.meta.url))

export type TestResources = NonNullable<ArbiterConfigInput['resources']>

/**
 * Config for tests: quick recovery, a temp data folder, loopback on a free
 * port. In vitest's 'store' project (test/harness/store-setup.ts sets
 * ARBITER_TEST_STORE_URL), a TM whose test names no log store keeps its
 * decisions in a shared PostgreSQL store instead of its file log, with a
 * short lease.
 */
export function testConfig(resources: TestResources, overrides: Partial<ArbiterConfigInput> = {}): ArbiterConfigInput {
  return {
    ...(process.env.ARBITER_TEST_STORE_URL &&
      overrides.log === undefined && {
        log: { store: 'postgres', url: process.env.ARBITER_TEST_STORE_URL },
        cluster: { leaseMs: 1000, takeoverIntervalMs: 250 },
      }),
    // Unique per TM so tests sharing a MariaDB server can tell their branches apart in XA RECOVER.
    nodeId: `t${Math.random().toString(36).slice(2, 10)}`,
    listen: '127.0.0.1:0',
    dataDir: mkdtempSync(join(tmpdir(), 'arbiter-data-')),
    resources,
    transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 1000, retentionMs: 600_000 },
    recovery: { intervalMs: 500, graceMs: 1000 },
    shutdownGraceMs: 2000,
    // Many TMs run at once in tests: each gets a free metrics port (logged as "metrics listening").
    metrics: { listen: '127.0.0.1:0' },
    ...overrides,
  }
}

/** An Arbiter in this process. stop() also removes its data folder unless keepData. */
export async function startTestArbiter(
  resources: TestResources,
  overrides: Partial<ArbiterConfigInput> = {},
  options: Pick<StartOptions, 'adapters' | 'spanProcessor'> = {},
): Promise<ArbiterServer & { dataDir: string; stopAndClean: () => Promise<void> }> {
  const input = testConfig(resources, overrides)
  const config = parseConfig(input)
  const server = await startArbiterServer(config, {
    logger: createLogger({ level: process.env.ARBITER_TEST_LOG_LEVEL ?? 'silent' }),
    ...(options.adapters && { adapters: options.adapters }),
    ...(options.spanProcessor && { spanProcessor: options.spanProcessor }),
  })
  return Object.assign(server, {
    dataDir: config.dataDir,
    stopAndClean: async () => {
      await server.stop()
      rmSync(config.dataDir, { recursive: true, force: true })
    },
  })
}

/** A free port on 127.0.0.1 (test/harness/proc.ts: below the ephemeral range). */
export { freePort }

/** An Arbiter in a child process, restartable on the same data folder and port. */
export class ArbiterProcess {
  private child: ChildProcess | undefined
  /** The TM's own pid (differs from the child's when a wrapper such as strace runs it). */
  private tmPid: number | undefined
  private output = ''
  private spawned = false
  readonly address: string
  private readonly configPath: string

  private constructor(
    readonly config: ArbiterConfigInput,
    private readonly env: Record<string, string>,
    port: number,
    /** A command to run the TM under, e.g. ['strace', '-f', …, '--']. */
    private readonly wrapper: readonly string[] = [],
  ) {
    this.address = `127.0.0.1:${port}`
    this.configPath = join(config.dataDir!, '..', `${config.nodeId}-${port}.yaml`)
    writeFileSync(this.configPath, toYaml({ ...config, listen: this.address }))
  }

  /** Starts the TM (the first time without the wrapper, so the data folder is set up cleanly). */
  static async start(config: ArbiterConfigInput, env: Record<string, string> = {}, wrapper: readonly string[] = []): Promise<ArbiterProcess> {
    const tm = new ArbiterProcess(config, env, await freePort(), wrapper)
    await tm.spawn({}, { wrapped: false })
    return tm
  }

  /** Starts the process; resolves once it listens (after its start-up recovery). */
  /**
   * Starts the process (under the wrapper, if any, unless told otherwise).
   * ARBITER_FAILPOINTS from start() applies to the first start only: a
   * restart is the recovering TM, which must not crash at the same point again.
   */
  async spawn(extraEnv: Record<string, string> = {}, options: { wrapped?: boolean } = {}): Promise<void> {
    const env = { ...this.env }
    if (this.spawned) delete env.ARBITER_FAILPOINTS
    this.spawned = true
    this.output = ''
    this.tmPid = undefined
    const command = [process.execPath, '--import', 'tsx', join(REPO, 'server/main.ts'), 'serve', '--config', this.configPath]
    const [file, ...args] = options.wrapped === false || this.wrapper.length === 0 ? command : [...this.wrapper, ...command]
    const child = spawn(file!, args, {
      cwd: REPO,
      env: { ...process.env, ARBITER_LOG_LEVEL: 'info', ...env, ...extraEnv },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    this.child = child
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`arbiter did not start in 30 s:\n${this.output.slice(-3000)}`)), 30_000)
      let started = false
      const onData = (chunk: Buffer): void => {
        const from = Math.max(0, this.output.length - 4096) // a line may straddle two chunks
        this.output += chunk.toString()
        // Search only the new text, and only until started: a long run logs megabytes.
        if (started) return
        const recent = this.output.slice(from)
        if (recent.includes('"arbiter listening"')) {
          started = true
          this.tmPid = Number(/"pid":(\d+)[^\n]*"arbiter listening"/.exec(recent)?.[1]) || undefined
          clearTimeout(timer)
          resolve()
        }
      }
      child.stdout.on('data', onData)
      child.stderr.on('data', onData)
      child.once('exit', (code, signal) => {
        clearTimeout(timer)
        reject(new Error(`arbiter exited (${code ?? signal}) during start-up:\n${this.output.slice(-3000)}`))
      })
    })
  }

  /** True while the process runs. */
  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  /** The TM process's pid while it runs (for CPU accounting in the benchmark). */
  get pid(): number | undefined {
    return this.tmPid
  }

  /** Resolves when the process exits (e.g. after a fail point crashed it). */
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.child
    if (!child || child.exitCode !== null || child.signalCode !== null) {
      return Promise.resolve({ code: child?.exitCode ?? null, signal: child?.signalCode ?? null })
    }
    return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  }

  async kill(): Promise<void> {
    const exited = this.exited()
    if (this.tmPid !== undefined && this.tmPid !== this.child?.pid) {
      try {
        process.kill(this.tmPid, 'SIGKILL') // a wrapper's death would only detach the TM
      } catch {
        // already gone
      }
    }
    this.child?.kill('SIGKILL')
    await exited
  }

  /** SIGSTOP: the process is frozen (a long GC pause, a stalled VM) until resume(). */
  pause(): void {
    process.kill(this.tmPid ?? this.child!.pid!, 'SIGSTOP')
  }

  resume(): void {
    process.kill(this.tmPid ?? this.child!.pid!, 'SIGCONT')
  }

  async stop(): Promise<void> {
    const exited = this.exited()
    this.child?.kill('SIGTERM')
    await exited
  }

  logs(): string {
    return this.output
  }

  /** host:port of its metrics/health port (logged as "metrics listening" at start-up). */
  metricsAddress(): string {
    const found = /"metrics listening"[^\n]*"address":"([^"]+)"|"address":"([^"]+)"[^\n]*"metrics listening"/.exec(this.output)
    const address = found?.[1] ?? found?.[2]
    if (!address) throw new Error('this node logged no "metrics listening" line (metrics.listen is empty?)')
    return address
  }

  /** One sample of its /metrics: the value of `series` (name with labels, as exposed), undefined when absent. */
  async metric(series: string): Promise<number | undefined> {
    const text = await (await fetch(`http://${this.metricsAddress()}/metrics`)).text()
    const line = text.split('\n').find((l) => l.startsWith(`${series} `))
    return line === undefined ? undefined : Number(line.slice(series.length + 1))
  }

  async destroy(): Promise<void> {
    await this.kill()
    rmSync(this.config.dataDir!, { recursive: true, force: true })
    rmSync(this.configPath, { force: true })
  }
}
