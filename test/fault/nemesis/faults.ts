// The faults the nemesis injects (reliability.md's matrix, the kinds a real
// deployment sees): processes killed and restarted, servers paused past the
// timeouts, sessions killed from the server side.
import pg from 'pg'
import mysql from 'mysql2/promise'
import type { TestServer } from '../../harness/index.js'
import type { ArbiterProcess } from '../../helpers/test-arbiter.js'
import type { Prng } from './prng.js'

export const FAULT_KINDS = [
  'tm-kill',
  'pg-kill',
  'mariadb-kill',
  'pg-pause',
  'mariadb-pause',
  'pg-session-kill',
  'mariadb-session-kill',
] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

export interface FaultTargets {
  readonly tm: ArbiterProcess
  readonly pg: TestServer
  readonly mariadb: TestServer
  /** The databases whose sessions get killed. */
  readonly pgDbUrl: string
  readonly mysqlDbUrl: string
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/** Injects one fault and heals it before returning. */
export async function inject(kind: FaultKind, t: FaultTargets, random: Prng): Promise<void> {
  switch (kind) {
    case 'tm-kill':
      await t.tm.kill()
      await sleep(random.int(100, 1000))
      await t.tm.spawn()
      return
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
