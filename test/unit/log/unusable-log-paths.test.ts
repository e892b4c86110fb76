// What an operator is told when a path of the file log is not what it must
// be (found by hostile testing: "EEXIST: file already exists, mkdir", naming
// nothing). Real files in a temporary folder.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FileDecisionLog } from '../../../server/log/file-decision-log.js'

const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})
function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'arbiter-paths-'))
  dirs.push(d)
  return d
}

describe('the file log at open, on paths that are not what they must be', () => {
  it('a file where the log folder goes', async () => {
    const d = dataDir()
    writeFileSync(join(d, 'log'), 'not a folder')
    await expect(new FileDecisionLog({ dir: join(d, 'log') }).open()).rejects.toThrow(
      new RegExp(`cannot open the decision log at ${join(d, 'log')}: a file is where a folder must be .*fix or move that path \\(dataDir\\)`),
    )
  })

  it('a folder where a segment goes', async () => {
    const d = dataDir()
    mkdirSync(join(d, 'log', 'segment-0000000001.log'), { recursive: true })
    await expect(new FileDecisionLog({ dir: join(d, 'log') }).open()).rejects.toThrow(/segment-0000000001\.log: a folder is where a file must be/)
  })
})
