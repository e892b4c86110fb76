// Issue #22: what a node on a shared PostgreSQL store refuses at start-up,
// and how it ends: a store it cannot reach (exit 1) or may not use, one of a
// newer schema version, a database that is not an Arbiter store, a data
// folder switched between the file store and the shared one (exit 2, each
// naming the option). Split from cluster-takeover.test.ts.
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { STORE_SCHEMA_VERSION, migrateStore } from '../../server/cluster/store-schema.js'
import { FileDecisionLog } from '../../server/log/file-decision-log.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'

const LEASE_MS = 1500

let storeUrl: string
let store: pg.Pool
const nodes: ArbiterProcess[] = []

beforeAll(async () => {
  storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'startstore')
  store = new pg.Pool({ connectionString: storeUrl, max: 2 })
  const client = await store.connect()
  try {
    await migrateStore(client, 'log.url') // the tables a node makes at its first start
  } finally {
    client.release()
  }
})

afterAll(async () => {
  await Promise.all(nodes.map((n) => n.destroy()))
  await store?.end()
})

/** A node on the store at `url` (no resources: what is refused here comes before them). */
function clusterConfig(nodeId?: string, url = storeUrl) {
  return testConfig([], { ...(nodeId !== undefined && { nodeId }), log: { store: 'postgres', url }, cluster: { leaseMs: LEASE_MS } })
}

describe('a store that cannot serve at start-up', () => {
  /** Runs `arbiter serve` on `config` and returns how it ended, without waiting for a start that never comes. */
  async function startFails(config: ReturnType<typeof testConfig>, env: Record<string, string> = {}): Promise<string> {
    const error = await ArbiterProcess.start(config, env).then(
      (n) => {
        nodes.push(n)
        return undefined
      },
      (e: unknown) => e as Error,
    )
    expect(error).toBeDefined()
    return error!.message
  }

  it('a node whose clock is far from the store\'s is refused, exit 2, naming cluster.maxClockOffsetMs; one a little off starts', async () => {
    // Found by hostile testing: 5 s behind at its first join of another store, a node presumed aborted what its real
    // store held committed; an hour ahead, its later orphans were never presumed aborted (first_joined_ms is by its clock).
    const skewed = (ms: number) => ({ NODE_OPTIONS: `--import ${join(import.meta.dirname, '../fixtures/cluster/clock-skew.mjs')}`, ARBITER_TEST_CLOCK_SKEW_MS: String(ms) })
    const behind = await startFails(clusterConfig('skew-behind'), skewed(-5_000))
    expect(behind).toMatch(/exited \(2\) during start-up/)
    expect(behind).toMatch(/this node's clock is [45]\d{3} ms behind the shared store's .*more than cluster\.maxClockOffsetMs \(500 ms\)/)
    const ahead = await startFails(clusterConfig('skew-ahead'), skewed(3_600_000))
    expect(ahead).toMatch(/clock is 3\d{6} ms ahead of the shared store's/)
    const rows = await store.query('SELECT node_id FROM arbiter_nodes WHERE node_id LIKE $1', ['skew-%'])
    expect(rows.rows).toEqual([]) // refused before it joined: no lease, no first_joined_ms by a wrong clock

    const near = await ArbiterProcess.start(clusterConfig('skew-near'), skewed(150))
    nodes.push(near)
    expect((await store.query('SELECT 1 FROM arbiter_nodes WHERE node_id = $1', ['skew-near'])).rows.length).toBe(1)
  })

  it('a store of a newer schema version is refused, exit 2, naming log.url', async () => {
    await store.query('UPDATE arbiter_schema SET version = 99')
    try {
      const error = await ArbiterProcess.start(clusterConfig()).then(
        (n) => {
          nodes.push(n)
          return undefined
        },
        (e: unknown) => e as Error,
      )
      expect(error?.message).toMatch(/exited \(2\) during start-up/)
      expect(error?.message).toContain(`the store named by log.url is at schema version 99, newer than this Arbiter's ${STORE_SCHEMA_VERSION}:`)
    } finally {
      await store.query('UPDATE arbiter_schema SET version = $1', [STORE_SCHEMA_VERSION])
    }
  })

  it('a database that is not an Arbiter store (a table of its own named arbiter_nodes) is refused, exit 2, naming log.url', async () => {
    // Found by hostile testing: this exited 1, as a store that failed, not as a wrong one.
    const foreign = await createDatabase(sharedServerUrls().pgUrl, 'notastore')
    const pool = new pg.Pool({ connectionString: foreign, max: 1 })
    try {
      await pool.query('CREATE TABLE arbiter_nodes (id serial PRIMARY KEY, note text)')
      const error = await ArbiterProcess.start(clusterConfig(undefined, foreign)).then(
        (n) => {
          nodes.push(n)
          return undefined
        },
        (e: unknown) => e as Error,
      )
      expect(error?.message).toMatch(/exited \(2\) during start-up/)
      expect(error?.message).toMatch(/the database named by log\.url is not an Arbiter store, or not a whole one/)
    } finally {
      await pool.end()
    }
  })

  it('an unreachable store: exit 1, naming log.url; a refused login: exit 2; never a half-started node', async () => {
    const base = { cluster: { leaseMs: LEASE_MS } }
    const unreachable = await startFails(testConfig([], { ...base, log: { store: 'postgres', url: 'postgres://arbiter@127.0.0.1:1/none' } }))
    expect(unreachable).toMatch(/exited \(1\) during start-up/)
    expect(unreachable).toMatch(/the store named by log\.url failed while connecting/)
    expect(unreachable).not.toContain('arbiter listening')
    const wrongDb = new URL(storeUrl)
    wrongDb.pathname = '/no_such_database'
    const refused = await startFails(testConfig([], { ...base, log: { store: 'postgres', url: wrongDb.toString() } }))
    expect(refused).toMatch(/exited \(2\) during start-up/)
    expect(refused).toMatch(/the store named by log\.url refused the connection/)
  })

  it('a store user without the privileges to create the tables: exit 2, saying which privileges', async () => {
    const bare = await createDatabase(sharedServerUrls().pgUrl, 'bare')
    const admin = new pg.Client({ connectionString: bare })
    await admin.connect()
    const role = `arb_noperm_${Math.random().toString(36).slice(2, 8)}`
    await admin.query(`CREATE ROLE ${role} LOGIN PASSWORD 'noperm-pw'`)
    await admin.query('REVOKE CREATE ON SCHEMA public FROM PUBLIC')
    await admin.end()
    const url = new URL(bare)
    url.username = role
    url.password = 'noperm-pw'
    const message = await startFails(testConfig([], { cluster: { leaseMs: LEASE_MS }, log: { store: 'postgres', url: url.toString() } }))
    expect(message).toMatch(/exited \(2\) during start-up/)
    expect(message).toMatch(/refused creating or migrating its tables: .*Its user needs CREATE on the schema/)
  })

  it('a data folder last used with the postgres store refuses the file store: exit 2, naming log.store (its decisions are in the store)', async () => {
    // Found by hostile testing: started again with no `log:` section, the node presumed aborted the
    // branches of a transaction the store held decided, and the node that took it over answered COMMITTED.
    const config = clusterConfig(`marker-${Math.random().toString(36).slice(2, 8)}`)
    const node = await ArbiterProcess.start(config)
    nodes.push(node)
    await node.stop()
    const { log: _store, ...rest } = config
    const message = await startFails({ ...rest, cluster: undefined })
    expect(message).toMatch(/exited \(2\) during start-up/)
    expect(message).toMatch(/was last used by node "marker-[a-z0-9]+" with log\.store: postgres: its decisions are in the shared store/)
    expect(message).toContain('shared-store.json')
  })

  it('a node whose file log still holds an unfinished decision refuses to switch to the postgres store: exit 2, naming log.store', async () => {
    const config = testConfig([], { cluster: { leaseMs: LEASE_MS }, log: { store: 'postgres', url: storeUrl } })
    const fileLog = new FileDecisionLog({ dir: join(config.dataDir!, 'log') })
    await fileLog.open()
    await fileLog.appendDecision('t0-unfinished', [{ resource: 'pg', bqual: '01' }])
    await fileLog.close()
    const message = await startFails(config)
    expect(message).toMatch(/exited \(2\) during start-up/)
    expect(message).toMatch(/still holds 1 unfinished transactions, which log\.store: postgres would strand/)
  })
})
