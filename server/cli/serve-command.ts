// `arbiter serve`: runs a TM node. Loaded only when that command runs (the
// admin CLI must not pay for the server's modules). Exit codes: 2 for any
// config error, with every bad field named (path or ARBITER_* variable,
// what was expected, what was given); 1 when start-up fails otherwise (a
// fatal log line says why); 0 after a graceful stop on SIGTERM or SIGINT.
// A second such signal while stopping is said and ignored (the stop is
// bounded), a third stops at once (exit 1, saying so); SIGHUP is said and
// ignored (there is no reload; a closed terminal must not kill a node).
import { ConfigError, loadConfig, type ArbiterConfig } from '../config.js'
import { installExitGuard } from './exit-guard.js'

export interface ServeOptions {
  readonly config?: string | undefined
}

/** The config, or the exit code and message of a config error (what `serve` prints before exiting 2). */
export function checkServeConfig(file: string | undefined, env: NodeJS.ProcessEnv): { config: ArbiterConfig } | { exitCode: 2; message: string } {
  try {
    return { config: loadConfig(file, env) }
  } catch (error) {
    if (error instanceof ConfigError) return { exitCode: 2, message: `arbiter: ${error.message}\n` }
    throw error
  }
}

export async function serve(options: ServeOptions): Promise<void> {
  const guard = installExitGuard('reading the config')
  const checked = checkServeConfig(options.config, process.env)
  if ('exitCode' in checked) {
    process.stderr.write(checked.message)
    guard.announced()
    process.exit(checked.exitCode)
  }
  const { config } = checked
  guard.stage = 'starting'
  // The server's modules are loaded only now: they are most of a node's start-up time.
  const [{ startArbiterServer }, { createLogger }] = await Promise.all([import('../arbiter-server.js'), import('../logger.js')])
  // The level: ARBITER_LOG_LEVEL (read into config.logLevel by loadConfig), else the file's logLevel, else info.
  const logger = createLogger({ level: config.logLevel })
  // Handlers go in before start-up: a signal that arrives while recovery
  // runs must still shut down cleanly (and release the data folder).
  const running: { server?: Awaited<ReturnType<typeof startArbiterServer>>; stopRequested?: string } = {}
  let signalled = 0
  const onSignal = (signal: string): void => {
    signalled++
    if (signalled === 1) return stop(signal)
    // Found by hostile testing: a second SIGTERM killed the node at once, mid-drain, with no word.
    if (signalled === 2) {
      logger.warn({ node: config.nodeId, signal }, 'already stopping gracefully (bounded by shutdownGraceMs, plus a few seconds): a third signal stops at once')
      return
    }
    process.stderr.write(`arbiter: stopped at once by a third ${signal} during the graceful stop: recovery finishes what was in flight at the next start\n`)
    guard.announced()
    process.exit(1)
  }
  const stop = (signal: string): void => {
    logger.info({ node: config.nodeId, signal }, 'shutting down') // before the server's logger (which names the node) exists
    guard.stage = 'shutting down'
    if (!running.server) {
      running.stopRequested = signal
      return
    }
    running.server.stop().then(
      () => {
        guard.announced() // "arbiter stopped" was logged
        process.exit(0)
      },
      (error: unknown) => {
        logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'shutdown failed')
        guard.announced()
        process.exit(1)
      },
    )
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
  // Found by hostile testing: SIGHUP (a "reload", a closed terminal or SSH session) killed the node with no word.
  process.on('SIGHUP', () => logger.warn({ node: config.nodeId }, 'SIGHUP ignored: arbiter does not reload its config; restart it (SIGTERM, then start) to apply changes'))
  /** The node cannot go on (it can never rejoin its cluster): a graceful stop, then its exit code. */
  const fatal = (error: Error & { readonly exitCode: number }): void => {
    process.stderr.write(`arbiter: ${error.message}\n`)
    guard.stage = 'shutting down'
    const exit = (): never => {
      guard.announced()
      process.exit(error.exitCode)
    }
    if (!running.server) return exit()
    running.server.stop().then(exit, exit)
  }
  try {
    running.server = await startArbiterServer(config, { logger, onFatal: fatal })
  } catch (error) {
    if (error instanceof ConfigError) {
      // A problem only start-up could see (a caller of startArbiterServer may skip loadConfig): still a config error.
      process.stderr.write(`arbiter: ${error.message}\n`)
      guard.announced()
      process.exit(2)
    }
    // The shared store (log.store: postgres) said what is wrong: its own exit code (2 when the config or store must change).
    const exitCode = error instanceof Error && error.name === 'StoreError' ? (error as Error & { exitCode: number }).exitCode : 1
    if (exitCode === 2) process.stderr.write(`arbiter: ${(error as Error).message}\n`)
    logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'start-up failed')
    guard.announced()
    process.exit(exitCode)
  }
  guard.stage = 'running'
  if (running.stopRequested) stop(running.stopRequested)
}
