// The Session stream on a real TM: requests multiplexed on one stream are
// answered by id, a bad request fails alone with the status its unary twin
// would get (and the stream stays usable), and a graceful stop ends open
// sessions promptly instead of waiting them out. BatchedSession: the same,
// with requests and answers carried in batches.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import type { SessionRequest } from '../../../proto/gen/arbiter/v1/SessionRequest.js'
import type { SessionResponse__Output } from '../../../proto/gen/arbiter/v1/SessionResponse.js'
import type { SessionResponseBatch__Output } from '../../../proto/gen/arbiter/v1/SessionResponseBatch.js'
import { fromWireStatus } from '../../../client/errors.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

type Stream = grpc.ClientDuplexStream<SessionRequest, SessionResponse__Output>

/** Opens a Session and collects every answer; `answer(id)` waits for one. */
function openSession(address: string): { stream: Stream; answer: (id: number) => Promise<SessionResponse__Output>; ended: Promise<grpc.StatusObject>; close: () => void } {
  const { proto } = loadArbiterProto()
  const client = new proto.arbiter.v1.TransactionManager(address, grpc.credentials.createInsecure())
  const stream = client.Session()
  const answers = new Map<number, SessionResponse__Output>()
  const waiting = new Map<number, (r: SessionResponse__Output) => void>()
  stream.on('data', (r: SessionResponse__Output) => {
    const w = waiting.get(r.id)
    if (w) w(r)
    else answers.set(r.id, r)
  })
  stream.on('error', () => undefined) // the status is read from 'status'
  const ended = new Promise<grpc.StatusObject>((resolve) => stream.on('status', resolve))
  return {
    stream,
    ended,
    answer: (id) => {
      const got = answers.get(id)
      return got ? Promise.resolve(got) : new Promise((resolve) => waiting.set(id, resolve))
    },
    close: () => {
      stream.end()
      client.close()
    },
  }
}

let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
beforeAll(async () => {
  // 'nobody' is this node's id: 'nobody:…' below is a transaction of its own it does not know (NOT_FOUND).
  arbiter = await startTestArbiter([], { nodeId: 'nobody' })
})
afterAll(async () => {
  await arbiter?.stopAndClean()
})

describe('the Session stream', () => {
  it('answers many requests in flight on one stream, each by its id', async () => {
    const s = openSession(arbiter.address)
    try {
      for (let id = 1; id <= 20; id++) s.stream.write({ id, begin: { timeoutMs: 5_000, labels: { n: String(id) } } })
      const begun = await Promise.all(Array.from({ length: 20 }, (_, i) => s.answer(i + 1)))
      const gtrids = begun.map((r) => {
        expect(r.response).toBe('begin')
        return r.begin!.gtrid
      })
      expect(new Set(gtrids).size).toBe(20)
      // Each GetTransaction answer carries the labels of the transaction its id asked about.
      gtrids.forEach((gtrid, i) => s.stream.write({ id: 100 + i, getTransaction: { gtrid } }))
      for (let i = 0; i < 20; i++) {
        const r = await s.answer(100 + i)
        expect(r.getTransaction).toMatchObject({ gtrid: gtrids[i], state: 'TRANSACTION_STATE_ACTIVE', labels: { n: String(i + 1) } })
      }
      gtrids.forEach((gtrid, i) => s.stream.write({ id: 200 + i, rollback: { gtrid, reason: 'test' } }))
      for (let i = 0; i < 20; i++) expect((await s.answer(200 + i)).rollback?.transaction?.state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    } finally {
      s.close()
    }
  })

  it('a bad request fails alone, with the status and ErrorInfo of its unary twin; the stream stays open', async () => {
    const s = openSession(arbiter.address)
    try {
      s.stream.write({ id: 1 })
      const empty = await s.answer(1)
      expect(empty.response).toBe('error')
      expect(empty.error!.code).toBe(grpc.status.INVALID_ARGUMENT)
      expect(empty.error!.message).toMatch(/a SessionRequest needs exactly one of: begin, execute/)
      expect(fromWireStatus(empty.error!).code).toBe('TM_INVALID_ARGUMENT')

      s.stream.write({ id: 2, getTransaction: { gtrid: 'nobody:01ARZ3NDEKTSV4RRFFQ69G5FAV' } })
      const unknown = await s.answer(2)
      expect(unknown.error!.code).toBe(grpc.status.NOT_FOUND)
      expect(fromWireStatus(unknown.error!).code).toBe('TM_TX_NOT_FOUND')

      s.stream.write({ id: 3, execute: { gtrid: 'x', statement: null } })
      expect(fromWireStatus((await s.answer(3)).error!).code).toBe('TM_INVALID_ARGUMENT')

      s.stream.write({ id: 4, begin: {} })
      expect((await s.answer(4)).begin?.gtrid).toMatch(/:/)
    } finally {
      s.close()
    }
  })

  it('a graceful stop ends open sessions once their requests are answered, without waiting out the grace', async () => {
    const tm = await startTestArbiter([], { shutdownGraceMs: 8_000 })
    const s = openSession(tm.address)
    s.stream.write({ id: 1, begin: {} })
    const begun = await s.answer(1)
    expect(begun.response).toBe('begin')
    // Nothing left in progress (an active transaction would get half the grace to finish).
    s.stream.write({ id: 2, commit: { gtrid: begun.begin!.gtrid } })
    expect((await s.answer(2)).response).toBe('commit')
    const started = Date.now()
    await tm.stopAndClean()
    const status = await s.ended
    expect(status.code).toBe(grpc.status.OK)
    expect(Date.now() - started).toBeLessThan(4_000)
    s.close()
  })
})

describe('the BatchedSession stream', () => {
  it('opens with its header; each request of a batch is answered as on Session, a bad one alone; answers ready together leave together', async () => {
    const { proto } = loadArbiterProto()
    const client = new proto.arbiter.v1.TransactionManager(arbiter.address, grpc.credentials.createInsecure())
    const stream = client.BatchedSession()
    try {
      const header = new Promise<grpc.Metadata>((resolve) => stream.once('metadata', resolve))
      // The header comes before any request is sent: the client waits for it.
      expect((await header).get('arbiter-session')).toEqual(['batched'])
      const batches: SessionResponseBatch__Output[] = []
      const answers = new Map<number, SessionResponse__Output>()
      const all = new Promise<void>((resolve) =>
        stream.on('data', (batch: SessionResponseBatch__Output) => {
          batches.push(batch)
          for (const r of batch.responses) answers.set(r.id, r)
          if (answers.size === 5) resolve()
        }),
      )
      stream.write({
        requests: [
          { id: 1, begin: { labels: { n: '1' } } },
          { id: 2, begin: { labels: { n: '2' } } },
          { id: 3 },
          { id: 4, getTransaction: { gtrid: 'nobody:01ARZ3NDEKTSV4RRFFQ69G5FAV' } },
          { id: 5, begin: { labels: { n: '5' } } },
        ],
      })
      await all
      expect([1, 2, 5].map((id) => answers.get(id)?.response)).toEqual(['begin', 'begin', 'begin'])
      expect(fromWireStatus(answers.get(3)!.error!).code).toBe('TM_INVALID_ARGUMENT')
      expect(fromWireStatus(answers.get(4)!.error!).code).toBe('TM_TX_NOT_FOUND')
      expect(batches.length).toBeLessThan(5)
      // The stream stays usable after the bad request.
      const gtrid = answers.get(5)!.begin!.gtrid
      const next = new Promise<SessionResponse__Output | undefined>((resolve) => stream.once('data', (b: SessionResponseBatch__Output) => resolve(b.responses[0])))
      stream.write({ requests: [{ id: 6, getTransaction: { gtrid } }] })
      expect((await next)?.getTransaction).toMatchObject({ gtrid, labels: { n: '5' } })
    } finally {
      stream.end()
      client.close()
    }
  })
})
