// A data folder keeps the node id it was first started under; another id on
// it is a config error (exit 2 from `arbiter serve`) naming both.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../server/config/config-error.js'
import { checkDataDirNode, rememberDataDirNode } from '../../../server/data-dir-node.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe("the data folder's node id", () => {
  it('is kept at the first start, and the same id starts again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-node-'))
    dirs.push(dir)
    await checkDataDirNode(dir, 'old-name') // a new folder: nothing kept yet
    await rememberDataDirNode(dir, 'old-name')
    await rememberDataDirNode(dir, 'old-name') // again: kept as it was
    expect(readFileSync(join(dir, 'NODE_ID'), 'utf8')).toBe('old-name\n')
    await expect(checkDataDirNode(dir, 'old-name')).resolves.toBeUndefined()
  })

  it('an empty NODE_ID (a write cut short by a full disk) binds nothing: the node starts, and the id is then kept whole', async () => {
    // Found by hostile testing: every later start was refused, asking for node id "".
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-node-'))
    dirs.push(dir)
    writeFileSync(join(dir, 'NODE_ID'), '')
    await expect(checkDataDirNode(dir, 'n1')).resolves.toBeUndefined()
    await rememberDataDirNode(dir, 'n1')
    expect(readFileSync(join(dir, 'NODE_ID'), 'utf8')).toBe('n1\n')
    expect(readdirSync(dir)).toEqual(['NODE_ID']) // no partial file left beside it
  })

  it('a folder it cannot write names the file', async () => {
    const error = await rememberDataDirNode('/proc/arbiter-no-such-dir', 'n1').catch((e: unknown) => e as Error)
    expect(error?.message).toMatch(/could not keep the node id in \/proc\/arbiter-no-such-dir\/NODE_ID \(dataDir\)/)
  })

  it('another id on the folder is a config error naming nodeId, both ids and what to do', async () => {
    // Found by hostile testing: renamed on the same folder, the old id's prepared branches stayed locked for good.
    const dir = mkdtempSync(join(tmpdir(), 'arbiter-node-'))
    dirs.push(dir)
    await rememberDataDirNode(dir, 'old-name')
    const error = await checkDataDirNode(dir, 'new-name').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as Error).message).toMatch(/nodeId: expected "old-name", the node id of data folder .*got "new-name"/s)
    expect((error as Error).message).toMatch(/give the new id a new dataDir/)
  })
})
