// Issue #21, item 1: with the metrics port off (metrics.listen: '') and a
// resource unreachable at start-up, the node used to log one "resource not
// ready, retrying" line and exit with code 13 and no error: the retry's
// sleep and start-up's own wait were unref'd timers, and nothing else held
// the event loop open yet. Now it keeps retrying, listens once start-up's
// wait for resources is over, and stops cleanly on SIGTERM.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { freePort } from '../../helpers/test-arbiter.js'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'arbiter-start-up-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('start-up with the metrics port off and a resource down', () => {
  it('keeps retrying, listens, and stops on SIGTERM (no silent exit 13)', async () => {
    const deadPort = await freePort() // nothing listens there
    const config = join(dir, 'node.yaml')
    writeFileSync(
      config,
      [
        'nodeId: start-up-test',
        'listen: 127.0.0.1:0',
        `dataDir: ${join(dir, 'data')}`,
        'metrics: { listen: "" }',
        'resources:',
        `  - { name: pg, kind: postgres, url: "postgres://postgres@127.0.0.1:${deadPort}/x" }`,
        '',
      ].join('\n'),
    )
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', 'serve', '--config', config], {
      cwd: REPO,
      env: { ...process.env, ARBITER_LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
    const listening = new Promise<void>((resolve, reject) => {
      const timer = setInterval(() => {
        if (output.includes('"arbiter listening"')) {
          clearInterval(timer)
          resolve()
        }
      }, 50)
      void exited.then((code) => {
        clearInterval(timer)
        reject(new Error(`the node exited with code ${code} during start-up:\n${output}`))
      })
    })
    try {
      await listening
      expect(output).toContain('"resource not ready, retrying"')
      const retries = output.split('"resource not ready, retrying"').length - 1
      expect(retries).toBeGreaterThan(1)
    } finally {
      child.kill('SIGTERM')
    }
    const started = Date.now()
    expect(await exited).toBe(0)
    // The sleeping retry is cancelled at stop: it must not keep the process for its remaining backoff.
    expect(Date.now() - started).toBeLessThan(5000)
    expect(output).toContain('"arbiter stopped"')
    expect(output).not.toContain('exited with code')
  })
})
