// `npm test` runs this before vitest: see ensure-servers.ts.
import { ensureServers } from './ensure-servers.js'

process.exitCode = ensureServers()
