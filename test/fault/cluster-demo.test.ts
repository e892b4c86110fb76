// Issue #23, item 5: `npm run demo -- --cluster`, small. Three TM nodes on a
// shared PostgreSQL store, the client given all three addresses, one node
// SIGKILLed halfway: the bank's invariants hold, nothing is left prepared,
// a survivor takes the dead node over within its lease, a takeover interval
// and slack, and transfers go on committing on both survivors.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { runClusterDemo } from '../../examples/bank-transfer/run-cluster-demo.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'

const LEASE_MS = 2000
const TAKEOVER_INTERVAL_MS = 500
const TRANSFERS = 400
/**
 * SIGKILL → takeover: the dead node's lease lapses at most LEASE_MS after its
 * last renewal, a survivor looks every TAKEOVER_INTERVAL_MS; that is 2.5 s,
 * plus slack for two cores shared with the database servers and other tests.
 */
const TAKEOVER_BOUND_MS = LEASE_MS + TAKEOVER_INTERVAL_MS + 3000
/**
 * …and to no branch of it left prepared: the taker's recovery pass (every
 * 500 ms) and its phase 2. A branch the app prepared on its own MariaDB
 * connection can only be rolled back once the app closes that session
 * (xa-semantics.md), and the client closes it when its outcome queries,
 * backing off 0.2 → 3.2 s, hear of the takeover: measured up to ~2 s after
 * it. 8.5 s in all.
 */
const FINISHED_BOUND_MS = TAKEOVER_BOUND_MS + 500 + 2500

describe('the bank demo on a three-node cluster (npm run demo -- --cluster)', () => {
  it('a node SIGKILLed halfway: taken over by a survivor, totals kept, nothing left prepared, both survivors commit on', async () => {
    const { pgUrl, mysqlUrl } = sharedServerUrls()
    const summary = await runClusterDemo({
      pgUrl: await createDatabase(pgUrl, 'cdemo'),
      mysqlUrl: await createDatabase(mysqlUrl, 'cdemo'),
      storeUrl: await createDatabase(pgUrl, 'cdemostore'),
      transfers: TRANSFERS,
      concurrency: 8,
      leaseMs: LEASE_MS,
      takeoverIntervalMs: TAKEOVER_INTERVAL_MS,
    })
    console.log(
      `cluster demo: killed ${summary.killed?.nodeId} (${summary.killed?.by}) after ${summary.killed?.afterTransfers}, ` +
        `taken over by ${summary.takeover?.by} in ${summary.takeover?.takenOverMs} ms, in-doubt finished in ${summary.takeover?.finishedMs} ms ` +
        `(${summary.takeover?.moved} moved); committed per node ${JSON.stringify(summary.committedPerNode)}`,
    )
    expect(summary.anomalies).toEqual([])
    expect(summary.totalAfter).toBe(summary.totalBefore)
    expect(summary.preparedLeft).toEqual({ pg: 0, mysql: 0 })
    expect(summary.committed + Object.values(summary.aborted).reduce((a, b) => a + b, 0) + summary.unknown.total).toBe(TRANSFERS)

    const killed = summary.killed!
    expect(killed).toBeDefined()
    const takeover = summary.takeover!
    expect(takeover).toBeDefined()
    const survivors = summary.nodes.map((n) => n.nodeId).filter((id) => id !== killed.nodeId)
    expect(survivors).toHaveLength(2)
    expect(survivors).toContain(takeover.by)
    expect(takeover.takenOverMs).toBeLessThan(TAKEOVER_BOUND_MS)
    expect(takeover.finishedMs).toBeGreaterThanOrEqual(takeover.takenOverMs)
    expect(takeover.finishedMs).toBeLessThan(FINISHED_BOUND_MS)
    // Killed right after logging a decision: that transfer was in doubt, and the taker moved it to itself.
    if (killed.by === 'fail point') expect(takeover.moved).toBeGreaterThanOrEqual(1)
    // Transfers went on through both survivors after the kill.
    for (const id of survivors) expect(summary.committedPerNode[id]?.afterKill).toBeGreaterThan(0)
  })

  it('the CLI names --cluster in its help', () => {
    const demo = fileURLToPath(new URL('../../examples/bank-transfer/demo.ts', import.meta.url))
    const run = spawnSync(process.execPath, ['--import', 'tsx', demo, '--help'], { encoding: 'utf8', timeout: 30_000 })
    expect(run.status).toBe(0)
    expect(run.stdout).toContain('--cluster')
    expect(run.stdout).toContain('DEMO_LEASE_MS')
  })
})
