// The client's Session stream against a real TM process that stalls and
// dies: a request on a stream that answers nothing fails at its own deadline
// and the client moves to a new stream, so the TM is usable again the moment
// it wakes; a stream broken by a TM crash fails its requests at once (not at
// their deadlines), and the next request reaches the restarted TM.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError, TransactionNotFoundError, UnavailableError, type ArbiterClient } from '../../../client/index.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'

const UNKNOWN = 'nobody:01ARZ3NDEKTSV4RRFFQ69G5FAV'

let tm: ArbiterProcess
let client: ArbiterClient
beforeAll(async () => {
  // 'nobody' is this TM's node id: UNKNOWN is a transaction of its own it does not know (NOT_FOUND).
  tm = await ArbiterProcess.start(testConfig([], { nodeId: 'nobody' }))
  client = createArbiterClient({ address: tm.address, defaultDeadlineMs: 600, outcomeQueryAttempts: 1 })
})
afterAll(async () => {
  client?.close()
  await tm?.destroy()
})

/** What a call ended with: an answer from the TM (NOT_FOUND for an unknown gtrid) or the client's own error. */
async function ask(): Promise<unknown> {
  return client.getTransaction(UNKNOWN).catch((error: unknown) => error)
}

describe('the client on a Session stream', () => {
  it('a stalled TM: the request fails at its deadline; once the TM wakes, the next request is answered', async () => {
    expect(await ask()).toBeInstanceOf(TransactionNotFoundError)
    process.kill(tm.pid!, 'SIGSTOP')
    try {
      const started = Date.now()
      expect(await ask()).toBeInstanceOf(OutcomeUnknownError)
      expect(Date.now() - started).toBeGreaterThanOrEqual(550)
      expect(Date.now() - started).toBeLessThan(2_000)
    } finally {
      process.kill(tm.pid!, 'SIGCONT')
    }
    expect(await ask()).toBeInstanceOf(TransactionNotFoundError)
  })

  it('a TM killed with a request in flight fails it at once (UNAVAILABLE, not at its deadline); the restarted TM answers later ones', async () => {
    const patient = createArbiterClient({ address: tm.address, defaultDeadlineMs: 20_000 })
    try {
      expect(await patient.getTransaction(UNKNOWN).catch((e: unknown) => e)).toBeInstanceOf(TransactionNotFoundError)
      process.kill(tm.pid!, 'SIGSTOP') // the request below stays in flight…
      const inFlight = patient.getTransaction(UNKNOWN).catch((e: unknown) => e)
      await new Promise((r) => setTimeout(r, 200))
      const started = Date.now()
      await tm.kill() // …until the TM dies under it
      expect(await inFlight).toBeInstanceOf(UnavailableError)
      expect(Date.now() - started).toBeLessThan(5_000)
      await tm.spawn()
      // The channel reconnects with backoff: ask until the restarted TM answers.
      let answer: unknown
      for (const until = Date.now() + 15_000; Date.now() < until; await new Promise((r) => setTimeout(r, 200))) {
        answer = await patient.getTransaction(UNKNOWN).catch((e: unknown) => e)
        if (!(answer instanceof UnavailableError)) break
      }
      expect(answer).toBeInstanceOf(TransactionNotFoundError)
    } finally {
      patient.close()
    }
  })
})
