// Signals a node gets from operators and their tools. Found by hostile
// testing: SIGHUP (a "reload", a closed terminal) and a second SIGTERM during
// the graceful stop killed the node at once, with no word and no drain.
// Now SIGHUP is said and ignored; a second SIGTERM is said and the graceful
// stop goes on; a third stops at once, saying so.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'signals')
})
afterAll(async () => {
  await dbs?.close()
})

/** A node with a transaction left open, so its graceful stop waits (up to half of shutdownGraceMs) for it. */
async function busyNode(): Promise<ArbiterProcess> {
  const tm = await ArbiterProcess.start(testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], { shutdownGraceMs: 4000 }))
  const client = tmClient(tm.address)
  const { gtrid } = await client.tm.Begin({})
  await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } })
  client.close()
  return tm
}

describe('signals', () => {
  it('SIGHUP is said and ignored: the node goes on serving', async () => {
    const tm = await busyNode()
    try {
      process.kill(tm.pid!, 'SIGHUP')
      await expect.poll(() => tm.logs(), { timeout: 5_000 }).toContain('SIGHUP ignored')
      expect(tm.running).toBe(true)
      const client = tmClient(tm.address)
      try {
        expect((await client.tm.Begin({})).gtrid).toBeTruthy()
      } finally {
        client.close()
      }
    } finally {
      await tm.destroy()
    }
  })

  it('a second SIGTERM during the graceful stop is said, and the stop ends as a graceful one (exit 0)', async () => {
    const tm = await busyNode()
    const exited = tm.exited()
    process.kill(tm.pid!, 'SIGTERM')
    await expect.poll(() => tm.logs(), { timeout: 5_000 }).toContain('"shutting down"')
    process.kill(tm.pid!, 'SIGTERM')
    const { code, signal } = await exited
    expect({ code, signal }).toEqual({ code: 0, signal: null })
    expect(tm.logs()).toContain('already stopping gracefully')
    expect(tm.logs()).toContain('arbiter stopped')
    await tm.destroy()
  })

  it('a third stops at once, exit 1, saying so', async () => {
    const tm = await busyNode()
    const exited = tm.exited()
    process.kill(tm.pid!, 'SIGTERM')
    await expect.poll(() => tm.logs(), { timeout: 5_000 }).toContain('"shutting down"')
    process.kill(tm.pid!, 'SIGTERM')
    await expect.poll(() => tm.logs(), { timeout: 5_000 }).toContain('already stopping gracefully')
    process.kill(tm.pid!, 'SIGINT')
    const { code } = await exited
    expect(code).toBe(1)
    expect(tm.logs()).toContain('stopped at once by a third SIGINT')
    await tm.destroy()
  })
})
