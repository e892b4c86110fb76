// The free-text reasons callers give. Found by hostile testing:
// - a NUL in ResolveBranch's reason reached the shared store's jsonb, which
//   refused the whole batch it was written in (other callers' decisions
//   aborted with it), and the resolution was answered TM_INTERNAL;
// - Rollback's reason had no bound: two 3 MB reasons made the Admin listing
//   larger than a client can receive.
// Over gRPC, on a real in-process TM.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MAX_REASON_LENGTH } from '../../../server/grpc/reason-field.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'

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

describe('reasons', () => {
  it('ResolveBranch: a NUL in reason is INVALID_ARGUMENT naming it, before anything is looked up or logged', async () => {
    const { gtrid } = await tm.tm.Begin({})
    const e = await grpcError(admin.admin.ResolveBranch({ gtrid, resolution: 'RESOLUTION_ROLLBACK', reason: 'typo\u0000' }))
    expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    expect(e.details).toBe('reason holds a NUL character (U+0000), which the decision log cannot store')
    expect((await tm.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ACTIVE')
  })

  it('Rollback: a reason of any size rolls back, and is kept cut to a bound, without NULs', async () => {
    const { gtrid } = await tm.tm.Begin({})
    const answer = await tm.tm.Rollback({ gtrid, reason: `a\u0000${'x'.repeat(3_000_000)}` })
    expect(answer.transaction?.state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    const kept = (await tm.tm.GetTransaction({ gtrid })).abortReason
    expect(kept.length).toBeLessThan(MAX_REASON_LENGTH + 100)
    expect(kept).toMatch(/^a\uFFFDx+… \(cut at 2000 characters\)$/)
  })
})
