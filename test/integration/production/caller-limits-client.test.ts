// Issue #21, item 13, through the client library: its transactions name
// themselves and begin with their first Execute (or their Commit) on the
// Session stream, never with a Begin call. Those begins count against the
// token's limits too: a second transaction of a token at its limit of one
// gets ResourceExhaustedError naming the limit, another token's goes on.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, ResourceExhaustedError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

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
