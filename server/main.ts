#!/usr/bin/env node
// The `arbiter` command: `arbiter serve --config FILE` runs a TM node;
// `arbiter admin …` inspects and resolves transactions on a running one.
// Only commander is loaded up front: each command imports what it needs
// when it runs, so `admin` never loads the server (zod, pino, prom-client,
// the database drivers), which was most of its start-up time.
import { Command } from '@commander-js/extra-typings'
import { addAdminCommand } from './cli/admin-command.js'

const program = new Command().name('arbiter').description('Arbiter: a two-phase-commit transaction manager over gRPC')

program
  .command('serve')
  .description('run a TM node (config file plus ARBITER_* environment overrides)')
  .option('-c, --config <file>', 'YAML or JSON config file')
  .action(async (options) => {
    const { serve } = await import('./cli/serve-command.js')
    await serve(options)
  })

addAdminCommand(program)

await program.parseAsync(process.argv)
