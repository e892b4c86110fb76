// Which store a data folder's node last used. A node on the shared store
// keeps its decisions there, not in dataDir. Started again on the same data
// folder with the file store (a config edited back, a `log:` section lost),
// it would find no decision for the branches its gtrids name and presume
// them aborted at start-up, although the store holds them decided (found
// by hostile testing: both branches rolled back, and the node that took the
// store's side over then answered COMMITTED). So joining the store leaves a
// marker in dataDir, and the file store refuses a data folder that has one.
// The other direction (file log → store) is guarded in shared-store.ts.
// The marker also names the store (its id, storeIdOf): started with log.url
// naming another store, the node would find none of its decisions there
// (found by hostile testing: its branches were rolled back, and back on its
// store it answered COMMITTED), so that is refused too.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreError } from './store-error.js'

const MARKER = 'shared-store.json'

/** Records in dataDir that `nodeId` keeps its decisions in the shared store `storeId`. */
export async function markSharedStore(dataDir: string, nodeId: string, storeId: string): Promise<void> {
  const path = join(dataDir, MARKER)
  const body = `${JSON.stringify({ store: 'postgres', storeId, nodeId, since: new Date().toISOString() })}\n`
  try {
    await writeFile(`${path}.tmp`, body)
    await rename(`${path}.tmp`, path)
  } catch (error) {
    throw new StoreError(`could not record in ${path} that this data folder's node uses the shared store: ${(error as Error).message}`, {
      option: 'dataDir',
      exitCode: 1,
      cause: error,
    })
  }
}

/**
 * The data folder's marker: undefined when there is none; its fields when
 * it reads as JSON, else an empty object (a damaged marker still marks).
 */
async function readMarker(path: string): Promise<{ storeId?: unknown; nodeId?: unknown } | undefined> {
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw new StoreError(`could not read ${path}: ${error.message}`, { option: 'dataDir', exitCode: 1, cause: error })
  })
  if (text === undefined) return undefined
  try {
    const parsed: unknown = JSON.parse(text)
    return parsed !== null && typeof parsed === 'object' ? parsed : {}
  } catch {
    return {}
  }
}

/** "node "n1"" as the marker names it, else "its node". */
function markedNode(marked: { nodeId?: unknown }): string {
  return typeof marked.nodeId === 'string' ? `node "${marked.nodeId}"` : 'its node'
}

/**
 * Refuses a shared store other than the one this data folder's node last
 * used (a marker without an id, from an older Arbiter or damaged, names
 * none; it is written again once this node joins).
 */
export async function refuseOtherStore(dataDir: string, storeId: string, option: string): Promise<void> {
  const path = join(dataDir, MARKER)
  const marked = await readMarker(path)
  if (typeof marked?.storeId !== 'string' || marked.storeId === storeId) return
  throw new StoreError(
    `${option} names another shared store than the one the data folder ${dataDir} was last used with (by ${markedNode(marked)}, store id ${marked.storeId}; ` +
      `this one is ${storeId}): its decisions are in that store, and on this one its prepared branches would have none. ` +
      `Point ${option} at the store it used. To move the node to this store for good: once \`arbiter admin transactions\` on a node ` +
      `of its old cluster lists none of its transactions unfinished, stop it and delete ${path}`,
    { option, exitCode: 2 },
  )
}

/** Refuses to open the file store in a data folder whose node last kept its decisions in the shared store. */
export async function refuseFileStoreAfterShared(dataDir: string): Promise<void> {
  const path = join(dataDir, MARKER)
  const marked = await readMarker(path)
  if (marked === undefined) return
  throw new StoreError(
    `the data folder ${dataDir} was last used by ${markedNode(marked)} with log.store: postgres: its decisions are in the shared store, ` +
      'and the file store would presume aborted the transactions the store holds decided. Start it with log.store: postgres again. ' +
      `To move it to the file store for good: once \`arbiter admin transactions\` on a node of the cluster lists none of its transactions unfinished, stop it and delete ${path}`,
    { option: 'log.store', exitCode: 2 },
  )
}
