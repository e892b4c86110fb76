// Issue #21, item 13, through the client library: its transactions name
// themselves and begin with their first Execute (or their Commit) on the
// Session stream, never with a Begin call. Those begins count against the
// token's limits too: a second transaction of a token at its limit of one
// gets ResourceExhaustedError naming the limit, another token's goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import * as grpc from '@grpc/grpc-js'
import { createArbiterClient, PermissionDeniedError, ResourceExhaustedError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { loadArbiterProto } from '../../../proto/load.js'

const SHOP = 'shop-token-0123456789abcdef'
const BILLING = 'billing-token-0123456789abcdef'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let shop: ArbiterClient
let billing: ArbiterClient

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'callers')
  arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
    limits: { perToken: { maxActiveTransactions: 1 } },
    auth: {
      tokens: [
        { name: 'shop', role: 'application', token: SHOP },
        { name: 'billing', role: 'application', token: BILLING },
      ],
    },
  })
  shop = createArbiterClient({ address: arbiter.address, token: SHOP })
  billing = createArbiterClient({ address: arbiter.address, token: BILLING })
})

afterAll(async () => {
  shop?.close()
  billing?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

describe('per-token limits through the client library', () => {
  it("a token's second transaction is refused while its first is open; another token's runs", async () => {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const isOpen = new Promise<void>((resolve) => (started = resolve))
    const first = shop.transaction(async (tx) => {
      await tx.execute('pg', 'INSERT INTO accounts VALUES (1, 10)')
      started()
      await held
    })
    await isOpen
    const second = await shop.transaction((tx) => tx.execute('pg', 'INSERT INTO accounts VALUES (2, 10)')).then(
      () => undefined,
      (error: unknown) => error,
    )
    expect(second).toBeInstanceOf(ResourceExhaustedError)
    expect((second as Error).message).toMatch(/caller "shop" has 1 transactions in progress, its limit \(limits\.perToken\.maxActiveTransactions\)/)
    await billing.transaction((tx) => tx.execute('pg', 'INSERT INTO accounts VALUES (3, 10)'))
    release()
    await first
    expect((await dbs.pgQuery<{ id: number }>('SELECT id FROM accounts ORDER BY id')).map((r) => r.id)).toEqual([1, 3])
  })
})

/** Call metadata that authenticates as `token`. */
const as = (token: string): grpc.Metadata => {
  const m = new grpc.Metadata()
  m.set('authorization', `Bearer ${token}`)
  return m
}

describe("a transaction is its caller's", () => {
  it("another token that knows its gtrid can neither use, end nor read it: PERMISSION_DENIED on every call and both transports", async () => {
    const { tm, close } = tmClient(arbiter.address)
    try {
      const { gtrid } = await tm.Begin({ timeoutMs: 30_000 }, as(SHOP))
      await tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (41, 10)' } }, as(SHOP))
      const attempts: [string, Promise<unknown>][] = [
        ['Execute', tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'DELETE FROM accounts' } }, as(BILLING))],
        ['ExecuteBatch', tm.ExecuteBatch({ gtrid, statements: [{ resource: 'pg', sql: 'DELETE FROM accounts' }] }, as(BILLING))],
        ['Enlist', tm.Enlist({ gtrid, resource: 'pg' }, as(BILLING))],
        ['Rollback', tm.Rollback({ gtrid, reason: 'hostile' }, as(BILLING))],
        ['GetTransaction', tm.GetTransaction({ gtrid }, as(BILLING))],
        ['Run', tm.Run({ gtrid, statements: [{ resource: 'pg', sql: 'SELECT 1' }] }, as(BILLING))],
        ['CompleteLocalBranches', tm.CompleteLocalBranches({ gtrid, committedBquals: [Buffer.from('x')] }, as(BILLING))],
        ['Commit', tm.Commit({ gtrid }, as(BILLING))],
      ]
      for (const [method, attempt] of attempts) {
        const error = await grpcError(attempt)
        expect({ method, code: error.code }).toEqual({ method, code: grpc.status.PERMISSION_DENIED })
        expect(error.details).toMatch(/belongs to another caller/)
      }
      // Through the client library (Session stream): the same refusal, as its own error class.
      const viaClient = await billing.getTransaction(gtrid).then(
        () => undefined,
        (error: unknown) => error,
      )
      expect(viaClient).toBeInstanceOf(PermissionDeniedError)
      // Its own caller's transaction went on untouched and commits.
      expect((await tm.GetTransaction({ gtrid }, as(SHOP))).state).toBe('TRANSACTION_STATE_ACTIVE')
      expect((await tm.Commit({ gtrid }, as(SHOP))).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect((await dbs.pgQuery<{ id: number }>('SELECT id FROM accounts WHERE id = 41')).length).toBe(1)
    } finally {
      close()
    }
  })

  it("another token's refused request on its own Session stream does not tie the transaction to that stream: closing it rolls nothing back", async () => {
    // Found by hostile testing: the stream bound the transaction before the call checked whose it was, and once
    // the other token closed its stream, the owner's transaction was rolled back (its session "ended").
    const { tm, close } = tmClient(arbiter.address)
    const { proto } = loadArbiterProto()
    const raw = new proto.arbiter.v1.TransactionManager(arbiter.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 })
    try {
      const { gtrid } = await tm.Begin({ timeoutMs: 30_000 }, as(SHOP))
      await tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (42, 10)' } }, as(SHOP))
      const stream = raw.Session(as(BILLING))
      const answer = new Promise<{ error?: { code: number } }>((resolve) => stream.once('data', resolve))
      stream.write({ id: 1, rollback: { gtrid } })
      expect((await answer).error?.code).toBe(grpc.status.PERMISSION_DENIED)
      stream.end()
      await new Promise((resolve) => setTimeout(resolve, 2_000)) // past transactions.localBranchGraceMs (1 s here)
      expect((await tm.GetTransaction({ gtrid }, as(SHOP))).state).toBe('TRANSACTION_STATE_ACTIVE')
      expect((await tm.Commit({ gtrid }, as(SHOP))).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    } finally {
      raw.close()
      close()
    }
  })
})
