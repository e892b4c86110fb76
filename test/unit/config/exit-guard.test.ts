// Issue #21, item 1: a node never exits without saying why. The guard's line
// for an exit nothing announced, here Node's own exit 13 when start-up
// waits on a promise while nothing holds the event loop.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { unexplainedExitMessage } from '../../../server/cli/exit-guard.js'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))

describe('exit guard', () => {
  it('says why when Node exits 13 with start-up still waiting', async () => {
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'test/fixtures/cli/unsettled-start.ts'], { cwd: REPO, timeout: 30_000 }, (error, _stdout, stderr) =>
        resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stderr }),
      )
    })
    expect(r.code).toBe(13)
    expect(r.stderr).toContain('arbiter: exited with code 13 while starting: Node found nothing left to run')
  })

  it('words other unexplained exits too', () => {
    expect(unexplainedExitMessage(0, 'running')).toBe('arbiter: exited with code 0 while running: no error was reported: a bug, please report it with the log above\n')
  })
})
