// The client over a real gRPC channel to a small in-process TransactionManager
// (never mocked gRPC): the token travels as metadata, per-call deadlines hold,
// and errors encoded by the server's own status conversion come back typed,
// on both transports (the Session stream and unary calls).
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import { TmError } from '../../../proto/errors.js'
import { serveOperations } from '../../../server/grpc/serve-operations.js'
import type { TransactionManagerOperations } from '../../../server/grpc/transaction-manager-service.js'
import { createLogger } from '../../../server/logger.js'
import { OutcomeUnknownError, ResourceExhaustedError, UnavailableError, createArbiterClient } from '../../../client/index.js'
import { TmRpc } from '../../../client/tm-rpc.js'
import { SessionTransport } from '../../../client/session-transport.js'
import { resolveClientOptions } from '../../../client/options.js'
import { REPORT_DELAY_MS } from '../../../client/completion-reports.js'

let server: grpc.Server
let address: string
let sessions: ReturnType<typeof serveOperations>['sessions']
/** Releases the fake's held getTransaction('held') calls. */
const held: (() => void)[] = []
const logger = createLogger({ level: 'silent' })
/** The authorization header of the last call (unary or Session stream) the server saw. */
let lastAuthorization: string | undefined

/** Commits and completion-report requests the fake received (gtrids only). */
const commitsSeen: { gtrid: string; completedLocal: string[] }[] = []
const reportRequestsSeen: string[][] = []

const unimplemented = (): never => {
  throw new TmError('TM_ILLEGAL_STATE', 'not in this fake')
}

// The fake's operations, served by the server's own unary handlers and Session stream.
const fakeOperations: TransactionManagerOperations = {
  begin: () => {
    throw new TmError('TM_OVERLOADED', '100 transactions are active', { metadata: { limit: '100' } })
  },
  getTransaction: async (req) => {
    if (req.gtrid === 'slow') return new Promise<never>(() => undefined)
    if (req.gtrid === 'held') return new Promise((resolve) => held.push(() => resolve({ gtrid: 'held', state: 'TRANSACTION_STATE_COMMITTED' }))) as never
    // 'n:big…': an answer of about 3 KB, to fill batches.
    const labels: Record<string, string> = req.gtrid.startsWith('n:big') ? { note: 'x'.repeat(3000) } : {}
    return {
      gtrid: req.gtrid,
      state: 'TRANSACTION_STATE_COMMITTED',
      labels,
      createdAtUnixMs: '1000',
      deadlineUnixMs: '2000',
      updatedAtUnixMs: '1500',
      branches: [{ resource: 'pg', mode: 'BRANCH_MODE_LOCAL', state: 'BRANCH_STATE_COMMITTED', xid: { formatId: 1, gtrid: Buffer.from('g'), bqual: Buffer.from('b1') } }],
    }
  },
  execute: unimplemented,
  executeBatch: unimplemented,
  enlist: unimplemented,
  commit: async (req) => {
    commitsSeen.push({ gtrid: req.gtrid, completedLocal: req.completedLocal.map((r) => r.gtrid) })
    if (req.gtrid === 'n:unlucky') throw new TmError('TM_RM_UNAVAILABLE', 'a resource is down')
    return {}
  },
  completeLocalBranches: (req) => {
    reportRequestsSeen.push(req.batch.map((r) => r.gtrid))
    return {}
  },
  rollback: unimplemented,
  run: unimplemented,
}

const recordAuthorization: grpc.ServerInterceptor = (_method, call) =>
  new grpc.ServerInterceptingCall(
    call,
    new grpc.ResponderBuilder()
      .withStart((next) =>
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMetadata((metadata, nextMetadata) => {
              const [value] = metadata.get('authorization')
              lastAuthorization = typeof value === 'string' ? value : undefined
              nextMetadata(metadata)
            })
            .build(),
        ),
      )
      .build(),
  )

/** Per method path: how many streams or calls were opened, and the size of each BatchedSession message. */
const opened = new Map<string, number>()
const batchSizes: number[] = []
const countMessages: grpc.ServerInterceptor = (method, call) =>
  new grpc.ServerInterceptingCall(
    call,
    new grpc.ResponderBuilder()
      .withStart((next) => {
        opened.set(method.path, (opened.get(method.path) ?? 0) + 1)
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMessage((message: { requests?: unknown[] }, nextMessage) => {
              if (method.path.endsWith('/BatchedSession')) batchSizes.push(message.requests?.length ?? 0)
              nextMessage(message)
            })
            .build(),
        )
      })
      .build(),
  )

let muteStreamsLeft = 0

/**
 * A fake TM like the one above but from before BatchedSession (grpc-js answers
 * that method UNIMPLEMENTED), or, with `mute`, one that opens BatchedSession
 * and never says so (no header, as behind a proxy that holds it back).
 */
async function startOlderTm(mute = false): Promise<{ address: string; server: grpc.Server }> {
  const { proto } = loadArbiterProto()
  const older = new grpc.Server({ interceptors: [countMessages] })
  const { BatchedSession: _absent, ...handlers } = serveOperations(fakeOperations, logger, { maxSessionRequestsInFlight: 64, maxMessageBytes: 4 * 1024 * 1024 }).handlers
  // A mute stream counts in muteStreamsLeft when the client half-closes or cancels it.
  const silent = (call: grpc.ServerDuplexStream<unknown, unknown>): void => {
    call.on('data', () => undefined) // else 'end' never comes
    call.on('end', () => muteStreamsLeft++)
    call.on('cancelled', () => muteStreamsLeft++)
  }
  older.addService(proto.arbiter.v1.TransactionManager.service, mute ? { ...handlers, BatchedSession: silent } : handlers)
  const port = await new Promise<number>((resolve, reject) =>
    older.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  )
  return { address: `127.0.0.1:${port}`, server: older }
}

beforeAll(async () => {
  const { proto } = loadArbiterProto()
  server = new grpc.Server({ interceptors: [recordAuthorization, countMessages] })
  const served = serveOperations(fakeOperations, logger, { maxSessionRequestsInFlight: 64, maxMessageBytes: 4 * 1024 * 1024 }) // no observer: refusals must be answered without one
  sessions = served.sessions
  server.addService(proto.arbiter.v1.TransactionManager.service, served.handlers)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  )
  address = `127.0.0.1:${port}`
})

afterAll(() => {
  server?.forceShutdown()
})

describe.each(['session', 'unary'] as const)('the client on the wire (transport %s)', (transport) => {
  it('sends the token as a bearer authorization header and maps the answer', async () => {
    const client = createArbiterClient({ address, transport, token: 's3cret-token-0123456789' })
    try {
      const info = await client.getTransaction('n:1')
      expect(lastAuthorization).toBe('Bearer s3cret-token-0123456789')
      expect(info.state).toBe('COMMITTED')
      expect(info.createdAt).toEqual(new Date(1000))
      expect(info.branches).toEqual([{ resource: 'pg', mode: 'local', state: 'COMMITTED', bqual: 'b1', attempts: 0, lastError: '' }])
    } finally {
      client.close()
    }
    const anonymous = createArbiterClient({ address, transport })
    try {
      await anonymous.getTransaction('n:1')
      expect(lastAuthorization).toBeUndefined()
    } finally {
      anonymous.close()
    }
  })

  it('rebuilds the error the server encoded (class, code, metadata, retryable)', async () => {
    const client = createArbiterClient({ address, transport })
    try {
      const error = await client.transaction(() => 1).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(ResourceExhaustedError)
      const e = error as ResourceExhaustedError
      expect(e.code).toBe('TM_OVERLOADED')
      expect(e.grpcCode).toBe(grpc.status.RESOURCE_EXHAUSTED)
      expect(e.message).toBe('100 transactions are active')
      expect(e.metadata).toMatchObject({ limit: '100', retryable: 'true' })
      expect(e.retryable).toBe(true)
    } finally {
      client.close()
    }
  })

  it('applies defaultDeadlineMs per call (a client-side deadline is OutcomeUnknownError)', async () => {
    const client = createArbiterClient({ address, transport, defaultDeadlineMs: 200 })
    try {
      const started = Date.now()
      await expect(client.getTransaction('slow')).rejects.toBeInstanceOf(OutcomeUnknownError)
      expect(Date.now() - started).toBeLessThan(900)
    } finally {
      client.close()
    }
  })

  it('a signal cancels a call and rejects with its reason', async () => {
    const client = createArbiterClient({ address, transport })
    try {
      const controller = new AbortController()
      const reason = new Error('stop')
      setTimeout(() => controller.abort(reason), 50)
      await expect(client.getTransaction('slow', { signal: controller.signal })).rejects.toBe(reason)
    } finally {
      client.close()
    }
  })

  it('completion reports ride on the next Commit; without one they go out alone after a short delay', async () => {
    const rpc = new TmRpc(resolveClientOptions({ address, transport }))
    commitsSeen.length = 0
    reportRequestsSeen.length = 0
    try {
      rpc.reportCommittedLocal('n:done-1', [Buffer.from('L1')])
      rpc.reportCommittedLocal('n:done-2', [Buffer.from('L1')])
      await rpc.commit({ gtrid: 'n:next' })
      expect(commitsSeen).toEqual([{ gtrid: 'n:next', completedLocal: ['n:done-1', 'n:done-2'] }])
      rpc.reportCommittedLocal('n:done-3', [Buffer.from('L1')])
      await expect.poll(() => reportRequestsSeen, { timeout: REPORT_DELAY_MS * 20 }).toEqual([['n:done-3']])
      await rpc.commit({ gtrid: 'n:after' })
      // Carried once: nothing rides along twice, nothing went out alone but the one report without a Commit.
      expect(commitsSeen.at(-1)).toEqual({ gtrid: 'n:after', completedLocal: [] })
      expect(reportRequestsSeen).toEqual([['n:done-3']])
      // A Commit that fails may not have applied what it carried: those reports go again.
      rpc.reportCommittedLocal('n:done-4', [Buffer.from('L1')])
      await expect(rpc.commit({ gtrid: 'n:unlucky' })).rejects.toThrow(/a resource is down/)
      expect(commitsSeen.at(-1)).toEqual({ gtrid: 'n:unlucky', completedLocal: ['n:done-4'] })
      await expect.poll(() => reportRequestsSeen, { timeout: REPORT_DELAY_MS * 20 }).toEqual([['n:done-3'], ['n:done-4']])
    } finally {
      rpc.close()
    }
  })

  it('refuses bad options up front', () => {
    expect(() => createArbiterClient({ address: '' })).toThrow(/address is required/)
    expect(() => createArbiterClient({ address, defaultDeadlineMs: -1 })).toThrow(/defaultDeadlineMs/)
    expect(() => createArbiterClient({ address, tls: { key: 'k' } })).toThrow(/tls.key needs tls.cert/)
    expect(() => createArbiterClient({ address, transport: 'carrier-pigeon' as never })).toThrow(/transport must be 'session' or 'unary'/)
  })
})

describe('the client on a Session stream the TM is closing', () => {
  it('a request the closing stream refused unrun goes again on a new stream (not a Commit); later ones go there too; the answer in flight still comes', async () => {
    const client = createArbiterClient({ address, transport: 'session', defaultDeadlineMs: 3_000 })
    try {
      const first = client.getTransaction('held') // in flight: keeps the closing session open
      for (let i = 0; i < 100 && held.length === 0; i++) await new Promise((r) => setTimeout(r, 10))
      void sessions.closeAll()
      // Refused on the closing stream, sent again on a new one, answered there.
      expect((await client.getTransaction('n:2')).state).toBe('COMMITTED')
      // Before, this went on the closing stream too and was refused the same way.
      expect((await client.getTransaction('n:3')).state).toBe('COMMITTED')
      held.splice(0).forEach((release) => release())
      expect((await first).state).toBe('COMMITTED')
    } finally {
      client.close()
    }
  })
})

describe('batching on the session stream', () => {
  it('the requests made in one turn of the event loop travel as one BatchedSession message, and each gets its answer', async () => {
    const client = createArbiterClient({ address, transport: 'session' })
    try {
      await client.getTransaction('n:warm-up') // the stream is open and the TM's header has come
      batchSizes.length = 0
      const gtrids = ['n:a', 'n:b', 'n:c', 'n:d', 'n:e']
      const infos = await Promise.all(gtrids.map((gtrid) => client.getTransaction(gtrid)))
      expect(infos.map((i) => i.gtrid)).toEqual(gtrids)
      expect(batchSizes).toEqual([5])
    } finally {
      client.close()
    }
  })

  it('with a TM from before BatchedSession the waiting requests go on a Session stream, and so does every later one', async () => {
    const older = await startOlderTm()
    opened.clear()
    const client = createArbiterClient({ address: older.address, transport: 'session' })
    try {
      const first = await Promise.all(['n:1', 'n:2', 'n:3'].map((gtrid) => client.getTransaction(gtrid)))
      expect(first.map((i) => i.state)).toEqual(['COMMITTED', 'COMMITTED', 'COMMITTED'])
      expect((await client.getTransaction('n:4')).gtrid).toBe('n:4')
      // One try of the new method per client, and no request lost or sent twice on the way.
      expect(Object.fromEntries(opened)).toEqual({
        '/arbiter.v1.TransactionManager/BatchedSession': 1,
        '/arbiter.v1.TransactionManager/Session': 1,
      })
    } finally {
      client.close()
      older.server.forceShutdown()
    }
  })

  it('requests made just before close() still go out and are answered, by a new TM and by an older one', async () => {
    const older = await startOlderTm()
    const { proto } = loadArbiterProto()
    try {
      for (const tm of [address, older.address]) {
        const raw = new proto.arbiter.v1.TransactionManager(tm, grpc.credentials.createInsecure())
        const transport = new SessionTransport(raw, () => new grpc.Metadata())
        // The stream is not open yet: the request waits for the TM's header (or its UNIMPLEMENTED).
        const answer = transport.request('getTransaction', { gtrid: 'n:last-words' }, { deadlineMs: 3_000 })
        transport.close()
        expect(await answer).toMatchObject({ gtrid: 'n:last-words' })
        raw.close()
      }
    } finally {
      older.server.forceShutdown()
    }
  })

  it('answers are batched within what the client receives (its grpc.max_receive_message_length), not only the TM\'s limit', async () => {
    const client = createArbiterClient({ address, transport: 'session', channelOptions: { 'grpc.max_receive_message_length': 16 * 1024 } })
    try {
      // 20 answers of about 3 KB each, ready in one turn: 60 KB in one message would break the stream.
      const infos = await Promise.all(Array.from({ length: 20 }, (_, i) => client.getTransaction(`n:big-${i}`)))
      expect(infos.every((info) => info.labels.note?.length === 3000)).toBe(true)
    } finally {
      client.close()
    }
  })

  it('a TM that never sends its header: the request fails as not sent (UNAVAILABLE, not outcome unknown), and the next one tries a new stream', async () => {
    const mute = await startOlderTm(true)
    opened.clear()
    batchSizes.length = 0
    const client = createArbiterClient({ address: mute.address, transport: 'session', defaultDeadlineMs: 300 })
    try {
      const first = await client.getTransaction('n:1').then(() => undefined, (e: unknown) => e)
      expect(first).toBeInstanceOf(UnavailableError)
      expect((first as Error).message).toMatch(/getTransaction was not sent: the TM did not open the session stream/)
      await expect(client.getTransaction('n:2')).rejects.toBeInstanceOf(UnavailableError)
      expect(opened.get('/arbiter.v1.TransactionManager/BatchedSession')).toBe(2)
      expect(batchSizes.length).toBe(0)
    } finally {
      client.close()
      mute.server.forceShutdown()
    }
  })

  it('a request answered by nothing while nothing else was heard retires its stream, even one sent in the millisecond of the last answer', async () => {
    const client = createArbiterClient({ address, transport: 'session', defaultDeadlineMs: 200 })
    try {
      for (let round = 0; round < 3; round++) {
        await client.getTransaction('n:1')
        opened.clear()
        // Sent at once after an answer: the stream may be half-open from here on.
        await expect(client.getTransaction('slow')).rejects.toBeInstanceOf(OutcomeUnknownError)
        expect((await client.getTransaction('n:2')).gtrid).toBe('n:2')
        expect(opened.get('/arbiter.v1.TransactionManager/BatchedSession')).toBe(1)
      }
    } finally {
      client.close()
    }
  })

  it('close() with every request still waiting for the header cancelled leaves no stream open', async () => {
    const mute = await startOlderTm(true)
    muteStreamsLeft = 0
    const { proto } = loadArbiterProto()
    const raw = new proto.arbiter.v1.TransactionManager(mute.address, grpc.credentials.createInsecure())
    try {
      const transport = new SessionTransport(raw, () => new grpc.Metadata())
      const controller = new AbortController()
      const answer = transport.request('getTransaction', { gtrid: 'n:never' }, { deadlineMs: 10_000, signal: controller.signal })
      await expect.poll(() => opened.get('/arbiter.v1.TransactionManager/BatchedSession') ?? 0).toBeGreaterThan(0)
      controller.abort(new Error('not needed'))
      await expect(answer).rejects.toThrow('not needed')
      transport.close()
      await expect.poll(() => muteStreamsLeft).toBe(1)
    } finally {
      raw.close()
      mute.server.forceShutdown()
    }
  })
})
