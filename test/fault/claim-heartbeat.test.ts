// A node-id claim proves its session every 5 s (adapters/node-id-claim.ts).
// A server that goes silent (paused with SIGSTOP, as a network cut looks to
// the TM) never closes the claim's connection, so without the proof the node
// would go on thinking it holds the id for as long as the OS's keepalive
// takes (minutes), while the server, once it drops the session, lets another
// TM take it. With it the claim is lost within 9 s: the resource takes no new
// branches and recovery presumes nothing there; once the server answers
// again the claim is held again and the resource is ready.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, startPostgres, whyNotControllable, type TestServer } from '../harness/index.js'
import { startTestArbiter } from '../helpers/test-arbiter.js'

const skip = whyNotControllable('postgres')

describe.skipIf(skip !== undefined)('a node-id claim whose server goes silent', () => {
  let server: TestServer
  let tm: Awaited<ReturnType<typeof startTestArbiter>> | undefined

  beforeAll(async () => {
    server = await startPostgres()
    const url = await createDatabase(server.url, 'heartbeat')
    tm = await startTestArbiter([{ name: 'pg', kind: 'postgres', url, connectTimeoutMs: 1000 }], { log: { store: 'file' } })
  })
  afterAll(async () => {
    await server?.resume().catch(() => undefined)
    await tm?.stopAndClean()
    await server?.destroy()
  })

  it('is lost within its heartbeat while the server is paused, and held again once it answers', async () => {
    const resources = tm!.resources
    expect(resources.status('pg')).toBe('ready')
    expect(resources.holdsNodeId('pg')).toBe(true)
    await server.pause()
    const paused = Date.now()
    await expect.poll(() => resources.holdsNodeId('pg'), { timeout: 15_000, interval: 100 }).toBe(false)
    expect(Date.now() - paused).toBeLessThan(5_000 + 4_000 + 1_000)
    expect(resources.status('pg')).toBe('connecting')
    expect(resources.lastError('pg')).toMatch(/taking its node id claim there again/)
    await server.resume()
    await expect.poll(() => resources.status('pg'), { timeout: 15_000, interval: 100 }).toBe('ready')
    expect(resources.holdsNodeId('pg')).toBe(true)
  })
})
