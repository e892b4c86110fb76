// The client over a real gRPC channel to a small in-process TransactionManager
// (never mocked gRPC): the token travels as metadata, per-call deadlines hold,
// and errors encoded by the server's own toServiceError() come back typed.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import { TmError } from '../../../proto/errors.js'
import { toServiceError } from '../../../server/grpc/status.js'
import { createLogger } from '../../../server/logger.js'
import type { TransactionManagerHandlers } from '../../../proto/gen/arbiter/v1/TransactionManager.js'
import { OutcomeUnknownError, ResourceExhaustedError, createArbiterClient } from '../../../client/index.js'

let server: grpc.Server
let address: string
const logger = createLogger({ level: 'silent' })

const unimplemented = (_call: unknown, callback: grpc.sendUnaryData<never>): void =>
  callback({ code: grpc.status.UNIMPLEMENTED, details: 'not in this fake' })

beforeAll(async () => {
  const { proto } = loadArbiterProto()
  server = new grpc.Server()
  const handlers: TransactionManagerHandlers = {
    Begin: (_call, callback) => callback(toServiceError(new TmError('TM_OVERLOADED', '100 transactions are active', { metadata: { limit: '100' } }), logger)),
    GetTransaction: (call, callback) => {
      if (call.request.gtrid === 'slow') {
        setTimeout(() => callback({ code: grpc.status.INTERNAL, details: 'late' }), 1_000)
        return
      }
      callback(null, {
        gtrid: call.request.gtrid,
        state: 'TRANSACTION_STATE_COMMITTED',
        labels: { authorization: String(call.metadata.get('authorization')[0] ?? '') },
        createdAtUnixMs: '1000',
        deadlineUnixMs: '2000',
        updatedAtUnixMs: '1500',
        branches: [{ resource: 'pg', mode: 'BRANCH_MODE_LOCAL', state: 'BRANCH_STATE_COMMITTED', xid: { formatId: 1, gtrid: Buffer.from('g'), bqual: Buffer.from('b1') } }],
      })
    },
    Execute: unimplemented,
    Enlist: unimplemented,
    Commit: unimplemented,
    CompleteLocalBranches: unimplemented,
    Rollback: unimplemented,
    Run: unimplemented,
  }
  server.addService(proto.arbiter.v1.TransactionManager.service, handlers)
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, p) => (error ? reject(error) : resolve(p))),
  )
  address = `127.0.0.1:${port}`
})

afterAll(() => {
  server?.forceShutdown()
})

describe('the client on the wire', () => {
  it('sends the token as a bearer authorization header and maps the answer', async () => {
    const client = createArbiterClient({ address, token: 's3cret-token-0123456789' })
    try {
      const info = await client.getTransaction('n:1')
      expect(info.labels.authorization).toBe('Bearer s3cret-token-0123456789')
      expect(info.state).toBe('COMMITTED')
      expect(info.createdAt).toEqual(new Date(1000))
      expect(info.branches).toEqual([{ resource: 'pg', mode: 'local', state: 'COMMITTED', bqual: 'b1', attempts: 0, lastError: '' }])
    } finally {
      client.close()
    }
    const anonymous = createArbiterClient({ address })
    try {
      expect((await anonymous.getTransaction('n:1')).labels.authorization).toBe('')
    } finally {
      anonymous.close()
    }
  })

  it('rebuilds the error the server encoded (class, code, metadata, retryable)', async () => {
    const client = createArbiterClient({ address })
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
    const client = createArbiterClient({ address, defaultDeadlineMs: 200 })
    try {
      const started = Date.now()
      await expect(client.getTransaction('slow')).rejects.toBeInstanceOf(OutcomeUnknownError)
      expect(Date.now() - started).toBeLessThan(900)
    } finally {
      client.close()
    }
  })

  it('a signal cancels a call and rejects with its reason', async () => {
    const client = createArbiterClient({ address })
    try {
      const controller = new AbortController()
      const reason = new Error('stop')
      setTimeout(() => controller.abort(reason), 50)
      await expect(client.getTransaction('slow', { signal: controller.signal })).rejects.toBe(reason)
    } finally {
      client.close()
    }
  })

  it('refuses bad options up front', () => {
    expect(() => createArbiterClient({ address: '' })).toThrow(/address is required/)
    expect(() => createArbiterClient({ address, defaultDeadlineMs: -1 })).toThrow(/defaultDeadlineMs/)
    expect(() => createArbiterClient({ address, tls: { key: 'k' } })).toThrow(/tls.key needs tls.cert/)
  })
})
