// vitest globalSetup for the integration and fault projects: one PostgreSQL,
// one MariaDB and one Redis per run (or the env URLs), handed to test files
// with project.provide() and read there with sharedServerUrls().
import type { TestProject } from 'vitest/node'
import { createDatabase } from './database.js'
import { mariadbFromEnvOrStart, postgresFromEnvOrStart, redisFromEnvOrStart } from './external.js'
import type { TestServer } from './types.js'

declare module 'vitest' {
  interface ProvidedContext {
    pgUrl: string
    mysqlUrl: string
    redisUrl: string
    /** A database for TMs on log.store: postgres (the 'store' project runs tests there, ARBITER_TEST_LOG_STORE). */
    storeUrl: string
  }
}

interface Shared {
  refs: number
  servers: Promise<TestServer[]>
}

// Both projects use this file; vitest runs it once per project in the same
// process. Share one set of servers between them, counted by reference.
const KEY = Symbol.for('arbiter.harness.sharedServers')
type WithShared = typeof globalThis & { [KEY]?: Shared }

async function startAll(): Promise<TestServer[]> {
  const t0 = Date.now()
  const timed = async (p: Promise<TestServer>): Promise<[TestServer, number]> => [await p, Date.now() - t0]
  const results = await Promise.allSettled([
    timed(postgresFromEnvOrStart()),
    timed(mariadbFromEnvOrStart()),
    timed(redisFromEnvOrStart()),
  ])
  const failed = results.filter((r) => r.status === 'rejected')
  if (failed.length > 0) {
    const started = results.filter((r): r is PromiseFulfilledResult<[TestServer, number]> => r.status === 'fulfilled')
    await Promise.all(started.map((r) => r.value[0].destroy()))
    throw new Error(failed.map((r) => (r.reason instanceof Error ? r.reason.message : String(r.reason))).join('\n\n'))
  }
  const ok = results.map((r) => (r as PromiseFulfilledResult<[TestServer, number]>).value)
  console.log(
    'harness: shared servers ' +
      ok.map(([s, ms]) => `${s.kind} ${s.external ? `external ${s.port}` : `:${s.port} (${(ms / 1000).toFixed(1)} s)`}`).join(', '),
  )
  return ok.map(([s]) => s)
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const g = globalThis as WithShared
  let shared = g[KEY]
  if (shared === undefined) {
    shared = { refs: 0, servers: startAll() }
    g[KEY] = shared
  }
  shared.refs++
  let servers: TestServer[]
  try {
    servers = await shared.servers
  } catch (err) {
    shared.refs--
    if (shared.refs === 0) delete g[KEY]
    throw err
  }
  const [pgServer, mysqlServer, redisServer] = servers as [TestServer, TestServer, TestServer]
  project.provide('pgUrl', pgServer.url)
  project.provide('mysqlUrl', mysqlServer.url)
  project.provide('redisUrl', redisServer.url)
  if (project.config.env?.ARBITER_TEST_LOG_STORE === 'postgres') project.provide('storeUrl', await createDatabase(pgServer.url, 'store'))
  const own = shared
  return async () => {
    own.refs--
    if (own.refs > 0) return
    delete g[KEY]
    await Promise.all(servers.map((s) => s.destroy()))
  }
}
