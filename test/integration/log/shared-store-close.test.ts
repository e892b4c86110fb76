// Closing the shared store while the node rejoins after a lost lease: the
// rejoin ends with the close. Found by review: it ran on after close(), so a
// join answered late took the lease again after release() (the stopped node
// looked live for one more lease, and its unfinished transactions waited that
// long for a takeover), and the loop then retried on the ended pool for ever.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { PassThrough } from 'node:stream'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { openSharedStore } from '../../../server/cluster/shared-store.js'
import { createLogger } from '../../../server/logger.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'

const NODE = 'closing-1'
const LEASE_MS = 1500

describe('closing the shared store during a rejoin', () => {
  let url: string
  let admin: pg.Pool
  let dataDir: string
  beforeAll(async () => {
    url = await createDatabase(sharedServerUrls().pgUrl, 'store_close')
    admin = new pg.Pool({ connectionString: url, max: 2 })
    dataDir = mkdtempSync(join(tmpdir(), 'arbiter-store-close-'))
  })
  afterAll(async () => {
    await admin?.end()
    rmSync(dataDir, { recursive: true, force: true })
  })

  it('a join still waiting on the store when close() runs: the lease it takes is released, and no retry follows', async () => {
    const lines: string[] = []
    const out = new PassThrough()
    out.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)))
    const logger = createLogger({ level: 'info', destination: out })
    const store = await openSharedStore(
      { url, option: 'log.url', nodeId: NODE, address: '127.0.0.1:1', resources: ['pg'], dataDir, leaseMs: LEASE_MS, takeoverIntervalMs: 60_000, retainEndedMs: 60_000 },
      logger,
    )
    const joinedEpoch = store.lease.epoch
    // Another node took this one over and let its lease lapse: the renewal finds the epoch moved on and the node
    // rejoins. A session holding the node's row keeps that join waiting on the store while close() runs.
    await admin.query("UPDATE arbiter_nodes SET epoch = epoch + 1, lease_expires_at = now() - interval '1 second' WHERE node_id = $1", [NODE])
    const holder = await admin.connect()
    await holder.query('BEGIN')
    await holder.query('SELECT 1 FROM arbiter_nodes WHERE node_id = $1 FOR UPDATE', [NODE])
    await store.lease.renew()
    expect(store.lease.epoch).toBe(0) // lost; the rejoin's join is now blocked on the row
    await sleep(200)
    const closed = store.close()
    await sleep(200)
    await holder.query('COMMIT') // the join goes through now, after close() began
    holder.release()
    await closed

    const row = async (): Promise<{ epoch: number; live: boolean }> => {
      const r = await admin.query<{ epoch: string; live: boolean }>('SELECT epoch::text, lease_expires_at > now() AS live FROM arbiter_nodes WHERE node_id = $1', [NODE])
      return { epoch: Number(r.rows[0]!.epoch), live: r.rows[0]!.live }
    }
    // The join took a new epoch, and close() gave its lease up: a peer may take the node over at once.
    expect(await row()).toEqual({ epoch: joinedEpoch + 2, live: false })
    const logged = lines.length
    await sleep(1000) // longer than the rejoin's first retry delays (200, 400 ms)
    expect(lines.slice(logged).filter((l) => l.includes('rejoin'))).toEqual([])
    expect(await row()).toEqual({ epoch: joinedEpoch + 2, live: false })
  })
})
