// A node on the shared store (log.store: postgres): connects, migrates the
// tables, refuses to strand a file log's unfinished decisions, joins with a
// lease, opens the decision log, and after start-up takes over dead nodes.
// arbiter-server.ts calls these in order; everything cluster-specific that
// start-up and shutdown do is here.
import { readdir } from 'node:fs/promises'
import { setTimeout as sleep } from 'node:timers/promises'
import { join } from 'node:path'
import pg from 'pg'
import type { Coordinator } from '../coordinator/coordinator.js'
import { FileDecisionLog } from '../log/file-decision-log.js'
import { PostgresDecisionLog } from '../log/postgres-decision-log.js'
import type { CommitDelayOptions } from '../log/commit-delay.js'
import type { Logger } from '../logger.js'
import type { Recovery, TakenOverNodes } from '../recovery/recovery.js'
import { TransactionHolders } from './holders.js'
import { ClusterMembers } from './members.js'
import { NodeLease } from './node-lease.js'
import { StoreError } from './store-error.js'
import { markSharedStore, refuseOtherStore } from './store-marker.js'
import { migrateStore, storeIdOf } from './store-schema.js'
import { sweepEnded } from './store-sweep.js'
import { Takeover, type TakeoverEvent } from './takeover.js'

export interface SharedStoreConfig {
  readonly url: string
  /** The option that named the URL (log.url, log.urlEnv, log.urlFile), for messages. */
  readonly option: string
  readonly nodeId: string
  readonly address: string
  /** The resource names this node is configured with (NodeLeaseOptions.resources). */
  readonly resources: readonly string[]
  readonly dataDir: string
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  /** cluster.maxClockOffsetMs (NodeLeaseOptions.maxClockOffsetMs). */
  readonly maxClockOffsetMs?: number
  readonly retainEndedMs: number
  readonly onBatch?: (records: number) => void
  /**
   * The node cannot go on and must stop (its exit code on the error): after
   * a lost lease, its node id is held by another live node, so it can never
   * rejoin, and its claims on the resources would block that node too.
   */
  readonly onFatal?: (error: StoreError) => void
  readonly commitDelay?: CommitDelayOptions
}

export interface SharedStore {
  readonly log: PostgresDecisionLog
  readonly lease: NodeLease
  readonly takeover: Takeover
  readonly takenOver: TakenOverNodes
  readonly members: ClusterMembers
  /** Who holds a transaction, and other nodes' unfinished ones (Admin across the cluster). */
  readonly holders: TransactionHolders
  /**
   * Once the coordinator and recovery exist: lease loss handling, then a
   * takeover pass and the loops. `finished` hears of each takeover once the
   * recovery pass after it has run (its duration counts from the takeover's start).
   */
  start(coordinator: Coordinator, recovery: Recovery, finished?: (event: TakeoverEvent, durationMs: number) => void): Promise<void>
  close(): Promise<void>
}

export async function openSharedStore(config: SharedStoreConfig, logger: Logger): Promise<SharedStore> {
  await refuseUnfinishedFileLog(config.dataDir)
  const pool = new pg.Pool({
    connectionString: config.url,
    max: 4,
    connectionTimeoutMillis: 5000,
    // A paused or partitioned store must not hold a batch (and every Commit behind it) for TCP's hours:
    // a statement unanswered this long is a lost answer (settled by the abort marker when the store is back).
    query_timeout: 10_000,
    keepAlive: true,
    application_name: `arbiter-store:${config.nodeId}`.slice(0, 63),
  })
  // As for resources (postgres-adapter.ts): a store that goes away must not crash the node.
  pool.on('error', () => undefined)
  pool.on('connect', (client) => client.on('error', () => undefined))
  let storeId: string
  try {
    const client = await pool.connect().catch((error: unknown) => {
      throw StoreError.from(error, config.option, 'connecting')
    })
    try {
      const migrated = await migrateStore(client, config.option)
      if (migrated.from !== migrated.to) logger.info(migrated, 'shared store migrated')
      storeId = await storeIdOf(client, config.option)
    } finally {
      client.release()
    }
    await refuseOtherStore(config.dataDir, storeId, config.option)
  } catch (error) {
    await pool.end().catch(() => undefined)
    throw error
  }
  const holder: { coordinator?: Coordinator; rejoining?: Promise<void> } = {}
  /** Aborted by close(): a rejoin in progress stops, and waits no longer (found by review: it retried on a closed pool for ever). */
  const closing = new AbortController()
  const lease = new NodeLease(pool, {
    nodeId: config.nodeId,
    address: config.address,
    resources: config.resources,
    leaseMs: config.leaseMs,
    ...(config.maxClockOffsetMs !== undefined && { maxClockOffsetMs: config.maxClockOffsetMs }),
    option: config.option,
    logger,
    onLost: (why) => {
      holder.rejoining ??= rejoin(why).finally(() => (holder.rejoining = undefined))
    },
  })
  const log = new PostgresDecisionLog({
    pool,
    fence: lease,
    option: config.option,
    ...(config.onBatch && { onBatch: config.onBatch }),
    ...(config.commitDelay && { commitDelay: config.commitDelay }),
  })
  const takeover = new Takeover(pool, lease, log, { intervalMs: config.takeoverIntervalMs, logger })

  /** Lost the lease: roll back what is in progress, forget what was taken from us, and join again with a new epoch. */
  async function rejoin(why: string): Promise<void> {
    takeover.clear()
    await holder.coordinator?.leaseLost(`this TM node lost its lease in the shared store (${why}): retry`)
    for (let delay = 200; !closing.signal.aborted; delay = Math.min(delay * 2, 5000)) {
      try {
        await lease.join(closing.signal)
        if (closing.signal.aborted) return // close() releases the lease just taken
        await log.load()
        return
      } catch (error) {
        if (closing.signal.aborted) return
        // Another live node holds this node id (a replacement started while this one was frozen): retrying
        // cannot succeed, and both would refuse every transaction. Found by hostile testing: it retried forever.
        // Only that: other exit-2 errors (a refused login during a store failover) pass, and every node of a
        // cluster loses its lease to the same outage (found by review: they would all have stopped).
        if (error instanceof StoreError && error.option === 'nodeId' && config.onFatal) {
          logger.fatal({ err: error.message }, 'cannot rejoin the cluster: stopping')
          config.onFatal(error)
          return
        }
        logger.warn({ err: (error as Error).message }, 'rejoining the cluster failed: retrying')
        await sleep(delay, undefined, { signal: closing.signal }).catch(() => undefined)
      }
    }
  }

  try {
    await lease.join()
    await markSharedStore(config.dataDir, config.nodeId, storeId) // before any decision of this node can be in the store
    await log.open()
  } catch (error) {
    lease.stop()
    await pool.end().catch(() => undefined)
    throw error
  }
  lease.start()
  const sweeper = setInterval(() => void sweepEnded(pool, config.retainEndedMs).catch(() => undefined), 60_000)
  sweeper.unref()
  const members = new ClusterMembers(pool, config.option)
  const takenOver: TakenOverNodes = {
    adopts: (nodeId) => takeover.adopts(nodeId),
    firstJoinedAt: (nodeId) => takeover.firstJoinedAt(nodeId),
    presumeAborted: (gtrid, nodeId) => log.presumeAborted(gtrid, nodeId),
  }
  return {
    log,
    lease,
    takeover,
    takenOver,
    members,
    holders: new TransactionHolders(pool, members, config.option),
    async start(coordinator, recovery, finished) {
      holder.coordinator = coordinator
      takeover.onTakenOver = (event) => {
        const startedAt = performance.now() - event.durationMs
        void recovery
          .scanAfterChange()
          .then((report) => {
            const durationMs = Math.round(performance.now() - startedAt)
            const unreachable = Object.keys(report.unreachable)
            logger.info({ nodeId: event.nodeId, durationMs, steps: report.steps.length, unreachable }, 'taken-over node: recovery pass done')
            finished?.(event, durationMs)
          })
          .catch(() => undefined)
      }
      await takeover.pass().catch((error: unknown) => logger.warn({ err: String(error) }, 'takeover pass failed'))
      takeover.start()
    },
    async close() {
      // A rejoin still running would otherwise take the lease again after release(): a stopped node would look live
      // for one more lease, and its unfinished transactions would wait that long for a takeover.
      closing.abort()
      await holder.rejoining
      clearInterval(sweeper)
      takeover.stop()
      await log.close()
      await lease.release()
      await pool.end().catch(() => undefined)
    },
  }
}

/**
 * A node moved from the file store keeps its file log in dataDir/log. Its
 * unfinished decisions would be stranded (nothing reads that log any more):
 * refuse to start until they are finished under the file store.
 */
async function refuseUnfinishedFileLog(dataDir: string): Promise<void> {
  const dir = join(dataDir, 'log')
  const names = await readdir(dir).catch(() => [] as string[])
  if (!names.some((n) => n.startsWith('segment-'))) return
  const file = new FileDecisionLog({ dir })
  await file.open()
  const unfinished = file.unfinished().length
  await file.close()
  if (unfinished > 0) {
    throw new StoreError(
      `the file decision log in ${dir} still holds ${unfinished} unfinished transactions, which log.store: postgres would strand: ` +
        'start this node once more with log.store: file until `arbiter admin in-doubt` shows none of its transactions, then switch',
      { option: 'log.store', exitCode: 2 },
    )
  }
}
