// Opens the decision log the config names: the file store in dataDir (one
// node), or the shared PostgreSQL store with this node's lease (a cluster).
import { join } from 'node:path'
import { openSharedStore, type SharedStore } from '../cluster/shared-store.js'
import type { StoreError } from '../cluster/store-error.js'
import { refuseFileStoreAfterShared } from '../cluster/store-marker.js'
import type { ArbiterConfig } from '../config.js'
import { storeUrl } from '../config/sources.js'
import { ConfigError } from '../config/config-error.js'
import type { Logger } from '../logger.js'
import type { DecisionLog } from './decision-log.js'
import { FileDecisionLog } from './file-decision-log.js'
import { WriteProbe } from './write-probe.js'

export interface OpenedLog {
  readonly log: DecisionLog
  /** The file store's disk probe (readiness on a full disk). */
  readonly writeProbe?: WriteProbe
  /** The shared store's lease and takeover (log.store: postgres). */
  readonly shared?: SharedStore
}

export async function openDecisionLog(
  config: ArbiterConfig,
  o: { logger: Logger; onBatch: (records: number) => void; liveTransactions: () => number; onFatal?: ((error: StoreError) => void) | undefined },
): Promise<OpenedLog> {
  const commitDelay =
    config.log.commitDelayMs > 0
      ? {
          maxDelayMs: config.log.commitDelayMs,
          minSiblings: config.log.commitSiblings,
          batchFraction: config.log.commitBatchFraction,
          siblings: o.liveTransactions,
        }
      : undefined
  if (config.log.store === 'postgres') {
    const got = storeUrl(config.log, process.env)
    if ('problem' in got) throw ConfigError.of([got.problem], undefined)
    const option = config.log.url !== undefined ? 'log.url' : config.log.urlEnv !== undefined ? `log.urlEnv (${config.log.urlEnv})` : 'log.urlFile'
    const shared = await openSharedStore(
      {
        url: got.url,
        option,
        nodeId: config.nodeId,
        address: config.cluster.advertiseAddress ?? config.listen,
        resources: config.resources.map((r) => r.name),
        dataDir: config.dataDir,
        leaseMs: config.cluster.leaseMs,
        takeoverIntervalMs: config.cluster.takeoverIntervalMs,
        maxClockOffsetMs: config.cluster.maxClockOffsetMs,
        retainEndedMs: config.log.retainEndedMs,
        onBatch: o.onBatch,
        ...(o.onFatal && { onFatal: o.onFatal }),
        ...(commitDelay && { commitDelay }),
      },
      o.logger,
    )
    return { log: shared.log, shared }
  }
  await refuseFileStoreAfterShared(config.dataDir)
  const logDir = join(config.dataDir, 'log')
  const writeProbe = new WriteProbe(logDir)
  const log = new FileDecisionLog({
    dir: logDir,
    segmentBytes: config.log.segmentBytes,
    onBatch: o.onBatch,
    onWrite: (error) => writeProbe.wrote(error),
    ...(commitDelay && { commitDelay }),
  })
  await log.open()
  return { log, writeProbe }
}
