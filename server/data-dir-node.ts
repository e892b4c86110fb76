// A data folder belongs to one node id. Its decision log holds that node's
// decisions, and recovery finishes only the branches its gtrids name: under
// another id the old id's prepared branches would stay locked for good, each
// listed as another node's (found by hostile testing, after a rename meant to
// fix a duplicated default id). The id is kept in the folder at the first
// start; a start under another id is a config error naming both.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from './config/config-error.js'

const NODE_FILE = 'NODE_ID'

export async function checkDataDirNode(dataDir: string, nodeId: string): Promise<void> {
  const path = join(dataDir, NODE_FILE)
  let kept: string
  try {
    kept = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    await writeFile(path, `${nodeId}\n`, { flush: true })
    return
  }
  if (kept === nodeId) return
  throw ConfigError.of(
    [
      {
        path: 'nodeId',
        expected:
          `"${kept}", the node id of data folder ${dataDir} (${path}): its decision log and the prepared branches it finishes are that node's. ` +
          `Start that node under "${kept}" again; to rename it, first let it finish its transactions (arbiter admin in-doubt lists none of its branches), ` +
          'then give the new id a new dataDir',
        given: JSON.stringify(nodeId),
      },
    ],
    undefined,
  )
}
