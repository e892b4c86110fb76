// The two decision-log stores as the log tests open them: the file log in a
// temp folder, and the shared PostgreSQL store behind this node's lease (a
// reopen is a restart: the previous run's lease lapses first).
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { NodeLease } from '../../../server/cluster/node-lease.js'
import { migrateStore } from '../../../server/cluster/store-schema.js'
import type { DecisionLog } from '../../../server/log/decision-log.js'
import { FileDecisionLog } from '../../../server/log/file-decision-log.js'
import { PostgresDecisionLog } from '../../../server/log/postgres-decision-log.js'
import { createLogger } from '../../../server/logger.js'
import type { CommitDelayOptions } from '../../../server/log/commit-delay.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'

/** Options both stores take alike. */
export interface LogTuning {
  readonly endWaitMs?: number
}

export interface Store {
  /** A log on the same storage each time (a reopen). */
  open(tuning?: LogTuning): Promise<DecisionLog>
  cleanup(): Promise<void>
}

export const logger = createLogger({ level: 'silent' })

export function fileStore(): Store {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-contract-'))
  return {
    async open(tuning?: LogTuning) {
      const log = new FileDecisionLog({ dir, ...tuning })
      await log.open()
      return log
    },
    async cleanup() {
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export async function postgresStore(): Promise<Store & { pool: pg.Pool; lease: () => NodeLease; openWith(commitDelay?: CommitDelayOptions, tuning?: LogTuning): Promise<PostgresDecisionLog> }> {
  const url = await createDatabase(sharedServerUrls().pgUrl, 'contract')
  const pool = new pg.Pool({ connectionString: url, max: 4 })
  const client = await pool.connect()
  await migrateStore(client, 'log.url')
  client.release()
  let lease: NodeLease | undefined
  /** A log on the store with this node's lease; a reopen is a restart (the previous run's lease lapses first, as after a crash). */
  const openWith = async (commitDelay?: CommitDelayOptions, tuning?: LogTuning): Promise<PostgresDecisionLog> => {
    lease?.stop()
    lease = new NodeLease(pool, { nodeId: 'contract-1', address: '127.0.0.1:1', resources: ['pg'], leaseMs: 2000, option: 'log.url', logger, onLost: () => undefined })
    await pool.query("UPDATE arbiter_nodes SET lease_expires_at = now() - interval '1 second'")
    await lease.join()
    lease.start()
    const log = new PostgresDecisionLog({ pool, fence: lease, option: 'log.url', ...(commitDelay && { commitDelay }), ...tuning })
    await log.open()
    return log
  }
  return {
    pool,
    lease: () => lease!,
    open: (tuning?: LogTuning) => openWith(undefined, tuning),
    openWith,
    async cleanup() {
      lease?.stop()
      await pool.end()
    },
  }
}

export const branches = [
  { resource: 'pg', bqual: '0001' },
  { resource: 'maria', bqual: '0002' },
]
