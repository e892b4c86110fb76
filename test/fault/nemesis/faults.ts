// The faults the nemesis injects (reliability.md's matrix, the kinds a real
// deployment sees): processes killed and restarted, the TM restarted
// gracefully (a deploy), servers paused past the timeouts, sessions killed
// from the server side.
import pg from 'pg'
import mysql from 'mysql2/promise'
import type { TestServer } from '../../harness/index.js'
import type { ArbiterProcess } from '../../helpers/test-arbiter.js'
import type { Prng } from './prng.js'

export const FAULT_KINDS = [
  'tm-kill',
  'tm-sigterm',
  'pg-kill',
  'mariadb-kill',
  'pg-pause',
  'mariadb-pause',
  'pg-session-kill',
  'mariadb-session-kill',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/**
 * Faults that must cost no transfer its outcome: a graceful restart drains,
 * so every request the TM took before it began to drain is answered with
 * its true outcome (committed or aborted), never left unknown.
 */
export const GRACEFUL_FAULTS: ReadonlySet<FaultKind> = new Set<FaultKind>(['tm-sigterm'])

/**
 * How long the other faults' effects outlast their healing: dead pooled
 * sessions found on next use, locks of timed-out transactions (3 s here)
 * and in-doubt branches waiting for recovery, requests that waited out the
 * client's 5 s deadline. A transfer this close to one is that fault's.
 */
export const AFTERMATH_MS = 5000

export interface FaultTargets {
  readonly tm: ArbiterProcess
  readonly pg: TestServer
  readonly mariadb: TestServer
  /** The databases whose sessions get killed. */
  readonly pgDbUrl: string
  readonly mysqlDbUrl: string
  /** Called with the TM's output once it has exited, before it is restarted (a restart starts a new output). */
  readonly saveTmLogs?: (output: string) => void
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Injects one fault and heals it before returning; throws when the system under test misbehaved (after healing). */
export async function inject(kind: FaultKind, t: FaultTargets, random: Prng): Promise<void> {
  switch (kind) {
    case 'tm-kill':
      await t.tm.kill()
      await sleep(random.int(100, 1000))
      t.saveTmLogs?.(t.tm.logs())
      await t.tm.spawn()
      return
    case 'tm-sigterm': {
      // A rolling restart: SIGTERM, the TM drains and exits 0 by itself
      // within its shutdown grace, and comes back on the same data and port.
      const limitMs = Number(t.tm.config.shutdownGraceMs ?? 10_000) + 10_000
      const exit = await within(t.tm.stop().then(() => t.tm.exited()), limitMs)
      if (exit === undefined) await t.tm.kill()
      await sleep(random.int(100, 1000))
      t.saveTmLogs?.(t.tm.logs())
      await t.tm.spawn()
      if (exit === undefined) throw new Error(`the TM had not exited ${limitMs} ms after SIGTERM (killed)`)
      if (exit.code !== 0) throw new Error(`the TM exited with ${exit.code ?? exit.signal} after SIGTERM, not 0`)
      return
    }
    case 'pg-kill':
    case 'mariadb-kill': {
      const server = kind === 'pg-kill' ? t.pg : t.mariadb
      await server.kill()
      await sleep(random.int(100, 1000))
      await server.restart()
      return
    }
    case 'pg-pause':
    case 'mariadb-pause': {
      const server = kind === 'pg-pause' ? t.pg : t.mariadb
      await server.pause()
      await sleep(random.int(1000, 4000)) // past the transactions' 3 s timeout, sometimes
      await server.resume()
      return
    }
    case 'pg-session-kill': {
      const admin = new pg.Client({ connectionString: t.pgDbUrl })
      await admin.connect()
      try {
        await admin.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()')
      } finally {
        await admin.end()
      }
      return
    }
    case 'mariadb-session-kill': {
      const admin = await mysql.createConnection({ uri: t.mysqlDbUrl })
      try {
        const [rows] = await admin.query('SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()')
        for (const { id } of rows as { id: number }[]) await admin.query(`KILL ${Number(id)}`).catch(() => undefined)
      } finally {
        await admin.end()
      }
      return
    }
  }
}

/** The promise's value, or undefined when it takes longer than `ms`. */
async function within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))
  try {
    return await Promise.race([work, late])
  } finally {
    clearTimeout(timer)
  }
}
