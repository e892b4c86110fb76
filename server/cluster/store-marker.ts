// Which store a data folder's node last used. A node on the shared store
// keeps its decisions there, not in dataDir. Started again on the same data
// folder with the file store (a config edited back, a `log:` section lost),
// it would find no decision for the branches its gtrids name and presume
// them aborted at start-up, although the store holds them decided (found
// by hostile testing: both branches rolled back, and the node that took the
// store's side over then answered COMMITTED). So joining the store leaves a
// marker in dataDir, and the file store refuses a data folder that has one.
// The other direction (file log → store) is guarded in shared-store.ts.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { StoreError } from './store-error.js'

const MARKER = 'shared-store.json'

/** Records in dataDir that `nodeId` keeps its decisions in the shared store. */
export async function markSharedStore(dataDir: string, nodeId: string): Promise<void> {
  const path = join(dataDir, MARKER)
  const body = `${JSON.stringify({ store: 'postgres', nodeId, since: new Date().toISOString() })}\n`
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

/** Refuses to open the file store in a data folder whose node last kept its decisions in the shared store. */
export async function refuseFileStoreAfterShared(dataDir: string): Promise<void> {
  const path = join(dataDir, MARKER)
  const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined
    throw new StoreError(`could not read ${path}: ${error.message}`, { option: 'dataDir', exitCode: 1, cause: error })
  })
  if (text === undefined) return
  let nodeId = 'its node'
  try {
    const parsed = JSON.parse(text) as { nodeId?: unknown }
    if (typeof parsed.nodeId === 'string') nodeId = `node "${parsed.nodeId}"`
  } catch {
    // a damaged marker still marks
  }
  throw new StoreError(
    `the data folder ${dataDir} was last used by ${nodeId} with log.store: postgres: its decisions are in the shared store, ` +
      'and the file store would presume aborted the transactions the store holds decided. Start it with log.store: postgres again. ' +
      `To move it to the file store for good: once \`arbiter admin transactions\` on a node of the cluster lists none of its transactions unfinished, stop it and delete ${path}`,
    { option: 'log.store', exitCode: 2 },
  )
}
