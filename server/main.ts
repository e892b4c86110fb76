#!/usr/bin/env node
// The `arbiter` command: `arbiter serve --config FILE` runs a TM node;
// `arbiter admin …` inspects and resolves transactions on a running one.
// Only commander is loaded up front: each command imports what it needs
// when it runs, so `admin` never loads the server (zod, pino, prom-client,
// the database drivers), which was most of its start-up time.
import { readFileSync } from 'node:fs'
import { Command } from '@commander-js/extra-typings'
import { addAdminCommand } from './cli/admin-command.js'

const program = new Command()
  .name('arbiter')
  .description('Arbiter: a two-phase-commit transaction manager over gRPC')
  .version(packageVersion(), '-V, --version', 'print the version of Arbiter and exit')
  // A usage error (an unknown option, a missing value, an extra argument) exits 2, as config errors do.
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))

program
  .command('serve')
  .description('run a TM node (config file plus ARBITER_* environment overrides)')
  .option('-c, --config <file>', 'YAML or JSON config file')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2))
  .action(async (options) => {
    const { serve } = await import('./cli/serve-command.js')
    await serve(options)
  })

addAdminCommand(program)

await program.parseAsync(process.argv)

/** package.json's version: beside dist/ in the package, two levels up from server/main.ts in a checkout. */
function packageVersion(): string {
  for (const path of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), 'utf8')) as { name?: string; version?: string }
      if (pkg.version !== undefined && pkg.name !== undefined && /arbiter/.test(pkg.name)) return pkg.version
    } catch {
      // not this one
    }
  }
  return 'unknown'
}
