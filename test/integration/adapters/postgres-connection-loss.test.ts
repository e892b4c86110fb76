// Regression (found by the nemesis bank test): PostgreSQL killed while the
// adapter had a pooled client checked out crashed the whole TM with an
// unhandled 'error' event from pg. The call in flight must fail, retryably,
// and the process must live on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresAdapter } from '../../../adapters/index.js'
import { startPostgres, whyNotControllable, type TestServer } from '../../harness/index.js'

describe.skipIf(whyNotControllable('postgres') !== undefined)('PostgreSQL dies under a checked-out client', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startPostgres()
  })
  afterAll(async () => {
    await server?.destroy()
  })

  it('fails the call in flight with a retryable error and does not crash the process', async () => {
    const adapter = new PostgresAdapter({ name: 'pg', kind: 'postgres', url: server.url, connectTimeoutMs: 1000 })
    await adapter.init()
    await server.pause() // the next query waits on a checked-out client…
    const inFlight = adapter.recover().then(
      () => undefined,
      (e: unknown) => e,
    )
    await new Promise((r) => setTimeout(r, 200))
    await server.kill() // …whose server then dies
    const error = (await inFlight) as { errorClass?: string }
    expect(error?.errorClass).toBe('retryable')
    await new Promise((r) => setTimeout(r, 200)) // an unhandled 'error' event would have failed the run by now
    await server.restart()
    expect(await adapter.recover()).toEqual([])
    await adapter.close()
  })
})
