// The faults the nemesis injects (reliability.md's matrix, the kinds a real
// deployment sees): TM nodes killed, paused and restarted gracefully (a
// deploy), database servers killed and paused past the timeouts, sessions
// killed from the server side; in a cluster also the shared store killed,
// paused and its sessions killed, and nodes paused past their lease (taken
// over while frozen, then resumed).
import pg from 'pg'
import mysql from 'mysql2/promise'
import type { TestServer } from '../../harness/index.js'
import type { ArbiterProcess } from '../../helpers/test-arbiter.js'
import type { Prng } from './prng.js'

const SINGLE_NODE_FAULTS = [
  'tm-kill',
  'tm-sigterm',
  'tm-pause',
  'pg-kill',
  'mariadb-kill',
  'pg-pause',
  'mariadb-pause',
  'pg-session-kill',
  'mariadb-session-kill',
] as const
const STORE_FAULTS = ['store-kill', 'store-pause', 'store-session-kill'] as const

export const FAULT_KINDS = [...SINGLE_NODE_FAULTS, ...STORE_FAULTS] as const
export type FaultKind = (typeof FAULT_KINDS)[number]

/** The kinds that apply: the store's only to a cluster (a single node's log is its own disk). */
export function faultKinds(cluster: boolean): readonly FaultKind[] {
  return cluster ? FAULT_KINDS : SINGLE_NODE_FAULTS
}

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
  /** The TM nodes: one, or a cluster's. */
  readonly nodes: readonly ArbiterProcess[]
  readonly pg: TestServer
  readonly mariadb: TestServer
  /** A cluster's shared store (its own PostgreSQL server), and the lease its nodes hold there. */
  readonly store?: { readonly server: TestServer; readonly dbUrl: string; readonly leaseMs: number }
  /** The databases whose sessions get killed. */
  readonly pgDbUrl: string
  readonly mysqlDbUrl: string
  /** Called with a node's output once it has exited, before it is restarted (a restart starts a new output). */
  readonly saveTmLogs?: (node: ArbiterProcess, output: string) => void
}

/** What a fault acts on: two faults on one target never overlap. */
export function targetOf(kind: FaultKind, node: number): string {
  return kind.startsWith('tm-') ? `node ${node}` : kind.slice(0, kind.indexOf('-'))
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))

/**
 * Injects one fault (on `t.nodes[node]` for the TM's kinds) and heals it
 * before returning; throws when the system under test misbehaved (after healing).
 */
export async function inject(kind: FaultKind, node: number, t: FaultTargets, random: Prng): Promise<void> {
  const tm = t.nodes[node]!
  switch (kind) {
    case 'tm-kill':
      await tm.kill()
      // In a cluster, sometimes past the lease: another node takes the dead one's work over meanwhile.
      await sleep(random.int(100, t.store ? t.store.leaseMs + 1500 : 1000))
      t.saveTmLogs?.(tm, tm.logs())
      await restart(tm, t)
      return
    case 'tm-sigterm': {
      // A rolling restart: SIGTERM, the TM drains and exits 0 by itself
      // within its shutdown grace, and comes back on the same data and port.
      const limitMs = Number(tm.config.shutdownGraceMs ?? 10_000) + 10_000
      const exit = await within(tm.stop().then(() => tm.exited()), limitMs)
      if (exit === undefined) await tm.kill()
      await sleep(random.int(100, 1000))
      t.saveTmLogs?.(tm, tm.logs())
      await restart(tm, t)
      if (exit === undefined) throw new Error(`the TM had not exited ${limitMs} ms after SIGTERM (killed)`)
      if (exit.code !== 0) throw new Error(`the TM exited with ${exit.code ?? exit.signal} after SIGTERM, not 0`)
      return
    }
    case 'tm-pause': {
      // Frozen (a GC pause, a stalled VM). In a cluster past its lease: it is
      // taken over while frozen, and must find that out and rejoin by itself.
      tm.pause()
      await sleep(t.store ? random.int(t.store.leaseMs + 500, t.store.leaseMs + 2500) : random.int(300, 3000))
      tm.resume()
      return
    }
    case 'pg-kill':
    case 'mariadb-kill':
    case 'store-kill': {
      const server = serverOf(kind, t)
      await server.kill()
      await sleep(random.int(100, 1000))
      await server.restart()
      return
    }
    case 'pg-pause':
    case 'mariadb-pause':
    case 'store-pause': {
      const server = serverOf(kind, t)
      await server.pause()
      await sleep(random.int(1000, 4000)) // past the transactions' 3 s timeout (and a cluster's lease), sometimes
      await server.resume()
      return
    }
    case 'pg-session-kill':
    case 'store-session-kill': {
      const admin = new pg.Client({ connectionString: kind === 'pg-session-kill' ? t.pgDbUrl : t.store!.dbUrl })
      admin.on('error', () => undefined) // a server killed meanwhile by another stream must not crash the run
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

/**
 * Starts a node again, as its supervisor would (systemd, Kubernetes): a node
 * that cannot reach its shared store at start-up exits 1 (the store may be
 * down or starting up under another fault), and is started again a second later.
 */
async function restart(tm: ArbiterProcess, t: FaultTargets): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await tm.spawn()
      return
    } catch (error) {
      if (attempt >= 30 || !/exited \(1\) during start-up/.test(String(error))) throw error
      t.saveTmLogs?.(tm, tm.logs())
      await sleep(1000)
    }
  }
}

function serverOf(kind: 'pg-kill' | 'mariadb-kill' | 'store-kill' | 'pg-pause' | 'mariadb-pause' | 'store-pause', t: FaultTargets): TestServer {
  if (kind.startsWith('store-')) return t.store!.server
  return kind.startsWith('pg-') ? t.pg : t.mariadb
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
