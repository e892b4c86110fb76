// A restarted TM is found quickly (issue #20.4): with the default channel
// options, the time from the restarted TM's readiness (its "arbiter
// listening" line) to the client's first committed transaction is bounded.
// grpc-js's own reconnect backoff starts at 1 s and grows towards 2 minutes:
// after a few seconds down, a client kept failing for seconds after the TM
// was back.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, type ArbiterClient, type Transport } from '../../client/index.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'

/** The bound: the 500 ms reconnect backoff, a Begin retry (at most 250 ms apart) and a commit, on a loaded two-core machine. */
const BOUND_MS = 1500
const DOWN_MS = 7000

let tm: ArbiterProcess
let pgPool: pg.Pool

beforeAll(async () => {
  const pgDbUrl = await createDatabase(sharedServerUrls().pgUrl, 'reconnect')
  pgPool = new pg.Pool({ connectionString: pgDbUrl, max: 2 })
  await pgPool.query('CREATE TABLE hits (n int)')
  tm = await ArbiterProcess.start(testConfig([{ name: 'pg', kind: 'postgres', url: pgDbUrl, poolSize: 4 }]))
})

afterAll(async () => {
  await tm?.destroy()
  await pgPool?.end()
})

describe('after a TM restart', () => {
  for (const transport of ['session', 'unary'] as Transport[]) {
    it(`the client commits within ${BOUND_MS} ms of the TM being ready (${transport})`, async () => {
      const client: ArbiterClient = createArbiterClient({ address: tm.address, transport })
      let stop = false
      const commits: number[] = []
      const load = (async () => {
        while (!stop) {
          await client
            .transaction((tx) => tx.execute('pg', 'INSERT INTO hits VALUES (1)'))
            .then(
              () => commits.push(Date.now()),
              () => new Promise((r) => setTimeout(r, 20)), // down: the next one begins again
            )
        }
      })()
      try {
        await new Promise((r) => setTimeout(r, 500))
        expect(commits.length).toBeGreaterThan(0)
        await tm.kill()
        await new Promise((r) => setTimeout(r, DOWN_MS)) // long enough for grpc-js's own backoff to grow
        await tm.spawn()
        const ready = Date.now()
        await expect.poll(() => commits.some((t) => t >= ready), { timeout: 10_000, interval: 10 }).toBe(true)
        const delay = commits.find((t) => t >= ready)! - ready
        console.log(`${transport}: first commit ${delay} ms after the restarted TM was ready (down ${DOWN_MS} ms)`)
        expect(delay).toBeLessThan(BOUND_MS)
      } finally {
        stop = true
        await load
        client.close()
      }
    })
  }
})
