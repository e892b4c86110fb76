// Issue #21, item 5: an enum value the proto does not know (wait_for = 99,
// a state filter of 99) was taken as the default (Commit waited as for
// APPLIED; the filter matched nothing). It is bad input: INVALID_ARGUMENT
// naming the field, and the call changes nothing. Over gRPC, on a real
// in-process TM, unary and on the Session stream.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import type { Resolution } from '../../../proto/gen/arbiter/v1/Resolution.js'
import type { SessionResponse__Output } from '../../../proto/gen/arbiter/v1/SessionResponse.js'
import type { TransactionState } from '../../../proto/gen/arbiter/v1/TransactionState.js'
import type { WaitFor } from '../../../proto/gen/arbiter/v1/WaitFor.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'

/** A number the proto does not define, typed as the enum (what any gRPC client can send). */
const UNKNOWN = 99 as unknown as WaitFor & TransactionState & Resolution

let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let tm: ReturnType<typeof tmClient>
let admin: ReturnType<typeof adminClient>

beforeAll(async () => {
  arbiter = await startTestArbiter([])
  tm = tmClient(arbiter.address)
  admin = adminClient(arbiter.address)
})
afterAll(async () => {
  tm?.close()
  admin?.close()
  await arbiter?.stopAndClean()
})

describe('unknown enum values are INVALID_ARGUMENT naming the field', () => {
  it('Commit wait_for = 99: refused, and the transaction is still ACTIVE', async () => {
    const { gtrid } = await tm.tm.Begin({})
    const e = await grpcError(tm.tm.Commit({ gtrid, waitFor: UNKNOWN }))
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(e.details).toBe('wait_for: 99 is not one of WAIT_FOR_UNSPECIFIED, WAIT_FOR_APPLIED, WAIT_FOR_DURABLE')
    expect((await tm.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ACTIVE')
    expect((await tm.tm.Commit({ gtrid, waitFor: 'WAIT_FOR_DURABLE' })).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
  })

  it('Run wait_for = 99: refused before anything begins', async () => {
    const before = arbiter.coordinator.list().length
    const e = await grpcError(tm.tm.Run({ statements: [{ resource: 'none', sql: 'SELECT 1' }], waitFor: UNKNOWN }))
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/^wait_for: 99 is not one of/)
    expect(arbiter.coordinator.list().length).toBe(before)
  })

  it('Commit wait_for = 99 on the Session stream: that request refused, the stream goes on', async () => {
    const { proto } = loadArbiterProto()
    const client = new proto.arbiter.v1.TransactionManager(arbiter.address, grpc.credentials.createInsecure())
    const stream = client.Session()
    const answers: SessionResponse__Output[] = []
    const two = new Promise<void>((resolve) => {
      stream.on('data', (r: SessionResponse__Output) => {
        answers.push(r)
        if (answers.length === 2) resolve()
      })
    })
    try {
      const { gtrid } = await tm.tm.Begin({})
      stream.write({ id: 1, commit: { gtrid, waitFor: UNKNOWN } })
      stream.write({ id: 2, getTransaction: { gtrid } })
      await two
      const refused = answers.find((a) => a.id === 1)!
      expect(refused.error?.code).toBe(grpc.status.INVALID_ARGUMENT)
      expect(refused.error?.message).toMatch(/^wait_for: 99 is not one of/)
      expect(answers.find((a) => a.id === 2)?.getTransaction?.state).toBe('TRANSACTION_STATE_ACTIVE')
    } finally {
      stream.end()
      client.close()
    }
  })

  it('ListTransactions states = [99] (and UNSPECIFIED, which no transaction has): refused naming the entry', async () => {
    const e = await grpcError(admin.admin.ListTransactions({ states: ['TRANSACTION_STATE_ACTIVE', UNKNOWN] }))
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/^states\[1\]: 99 is not one of TRANSACTION_STATE_ACTIVE, /)
    const unspecified = await grpcError(admin.admin.ListTransactions({ states: ['TRANSACTION_STATE_UNSPECIFIED'] }))
    expect(unspecified.details).toMatch(/^states\[0\]: "TRANSACTION_STATE_UNSPECIFIED" is not one of/)
    expect((await admin.admin.ListTransactions({ states: ['TRANSACTION_STATE_ACTIVE'] })).transactions).toBeDefined()
  })

  it('ResolveBranch resolution = 99: refused naming the field', async () => {
    const e = await grpcError(admin.admin.ResolveBranch({ gtrid: 'x', resolution: UNKNOWN, reason: 'test' }))
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(e.details).toBe('resolution: 99 is not one of RESOLUTION_COMMIT, RESOLUTION_ROLLBACK, RESOLUTION_ABANDON')
  })
})
