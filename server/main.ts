#!/usr/bin/env node
// The `arbiter` command: `arbiter serve --config FILE` runs a TM node;
// `arbiter admin …` inspects and resolves transactions on a running one.
import { Command } from '@commander-js/extra-typings'
import { ConfigError, loadConfig } from './config.js'
import { startArbiterServer } from './arbiter-server.js'
import { createLogger } from './logger.js'
import { addAdminCommand } from './cli/admin-command.js'

const program = new Command().name('arbiter').description('Arbiter: a two-phase-commit transaction manager over gRPC')

program
  .command('serve')
  .description('run a TM node (config file plus ARBITER_* environment overrides)')
  .option('-c, --config <file>', 'YAML or JSON config file')
  .action(async (options) => {
    let config
    try {
      config = loadConfig(options.config)
    } catch (error) {
      if (error instanceof ConfigError) {
        process.stderr.write(`arbiter: ${error.message}\n`)
        process.exit(2)
      }
      throw error
    }
    // The level: ARBITER_LOG_LEVEL (read into config.logLevel by loadConfig), else the file's logLevel, else info.
    const logger = createLogger({ level: config.logLevel })
    // Handlers go in before start-up: a signal that arrives while recovery
    // runs must still shut down cleanly (and release the data folder).
    const running: { server?: Awaited<ReturnType<typeof startArbiterServer>>; stopRequested?: string } = {}
    const stop = (signal: string): void => {
      logger.info({ signal }, 'shutting down')
      if (!running.server) {
        running.stopRequested = signal
        return
      }
      running.server.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      )
    }
    process.once('SIGTERM', () => stop('SIGTERM'))
    process.once('SIGINT', () => stop('SIGINT'))
    running.server = await startArbiterServer(config, { logger }).catch((error: unknown) => {
      logger.fatal({ err: error instanceof Error ? error.message : String(error) }, 'start-up failed')
      process.exit(1)
    })
    if (running.stopRequested) stop(running.stopRequested)
  })

addAdminCommand(program)

await program.parseAsync(process.argv)
