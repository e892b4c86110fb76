// A data folder belongs to one node id. Its decision log holds that node's
// decisions, and recovery finishes only the branches its gtrids name: under
// another id the old id's prepared branches would stay locked for good, each
// listed as another node's (found by hostile testing, after a rename meant to
// fix a duplicated default id). The id is kept in the folder at the first
// start; a start under another id is a config error naming both. The file
// store only: on the shared store the decisions are the store's, by node id.
import { link, readFile, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ConfigError } from './config/config-error.js'

const NODE_FILE = 'NODE_ID'

/** Throws the config error when the folder was first started under another node id. */
export async function checkDataDirNode(dataDir: string, nodeId: string): Promise<void> {
  const path = join(dataDir, NODE_FILE)
  let kept: string
  try {
    kept = (await readFile(path, 'utf8')).trim()
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return
    throw error
  }
  // Empty: a write cut short (a full disk) by an Arbiter from before the file was written whole. It binds nothing
  // (found by hostile testing: every later start was refused, asking for node id "", which no config can give).
  if (kept === '' || kept === nodeId) return
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

/**
 * Keeps the node id in the folder, once its log opened (a first start that
 * fails before that, a mistyped id say, binds nothing).
 */
export async function rememberDataDirNode(dataDir: string, nodeId: string): Promise<void> {
  const path = join(dataDir, NODE_FILE)
  const kept = await readFile(path, 'utf8').then((text) => text.trim(), () => '')
  if (kept !== '') return // kept already (checkDataDirNode judged it)
  // Whole or not at all: written beside it, then linked in place (link fails rather than replace one that exists).
  const partial = `${path}.${process.pid}.tmp`
  try {
    await writeFile(partial, `${nodeId}\n`, { flush: true })
    await unlink(path).catch(() => undefined) // an empty one, from a write cut short before this was whole-or-nothing
    await link(partial, path).catch(async (error: unknown) => {
      const code = (error as NodeJS.ErrnoException).code
      if (code === 'EEXIST') return
      // A file system without hard links (SMB, some FUSE; found by review): written in place, as before.
      await writeFile(path, `${nodeId}\n`, { flag: 'wx', flush: true }).catch((inPlace: unknown) => {
        if ((inPlace as NodeJS.ErrnoException).code !== 'EEXIST') throw inPlace
      })
    })
  } catch (error) {
    throw new Error(`could not keep the node id in ${path} (dataDir): ${(error as Error).message}`, { cause: error })
  } finally {
    await unlink(partial).catch(() => undefined)
  }
}
