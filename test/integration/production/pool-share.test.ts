// Issue #21, fairness of the session pools: a token within its
// active-transaction limit held every pooled session of a resource with idle
// transactions, and every other caller's statement waited connectTimeoutMs
// and rolled back ("no connection within 1000 ms"). Each caller now holds at
// most its share of a pool (limits.perToken.poolShare, half by default with
// two tokens or more); past it, its own next branch waits for one of its own
// sessions and fails naming the option.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, TransactionAbortedError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

const SHOP = 'shop-token-0123456789abcdef'
const BILLING = 'billing-token-0123456789abcdef'
const BATCH = 'batch-token-0123456789abcdef'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let shop: ArbiterClient
let billing: ArbiterClient
let batch: ArbiterClient

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'poolshare')
  arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 4, connectTimeoutMs: 1000 }], {
    auth: {
      tokens: [
        { name: 'shop', role: 'application', token: SHOP },
        { name: 'billing', role: 'application', token: BILLING },
        { name: 'batch', role: 'application', token: BATCH, limits: { poolShare: 1 } },
      ],
    },
  })
  shop = createArbiterClient({ address: arbiter.address, token: SHOP })
  billing = createArbiterClient({ address: arbiter.address, token: BILLING })
  batch = createArbiterClient({ address: arbiter.address, token: BATCH })
})

afterAll(async () => {
  shop?.close()
  billing?.close()
  batch?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

interface Held {
  /** Resolves once its statement ran (it holds a session of "pg"), or its transaction failed. */
  readonly opened: Promise<void>
  /** Lets it commit. */
  readonly release: () => void
  /** Its transaction's end: undefined when committed, else the error. */
  readonly outcome: Promise<unknown>
}

/** A transaction of `client` that holds a session of "pg" until released. */
function holdSession(client: ArbiterClient, id: number): Held {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let open!: () => void
  const opened = new Promise<void>((resolve) => (open = resolve))
  const outcome = client
    .transaction(async (tx) => {
      await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 10)', [id])
      open()
      await held
    })
    .then(
      () => undefined,
      (error: unknown) => {
        open()
        return error
      },
    )
  return { opened, release, outcome }
}

async function ids(): Promise<number[]> {
  return (await dbs.pgQuery<{ id: number }>('SELECT id FROM accounts ORDER BY id')).map((r) => Number(r.id))
}

describe("each caller's share of a resource's session pool", () => {
  it("a caller holding idle transactions keeps half the pool free for the others; its own extra branches fail naming the share", async () => {
    const shopTxs = [1, 2, 3, 4].map((id) => holdSession(shop, id))
    await Promise.all(shopTxs.slice(0, 2).map((t) => t.opened))
    // Without shares shop's four took all four sessions and both of these waited 1000 ms and rolled back.
    const billingTxs = [11, 12].map((id) => holdSession(billing, id))
    await Promise.all(billingTxs.map((t) => t.opened))
    for (const t of billingTxs) t.release()
    expect(await Promise.all(billingTxs.map((t) => t.outcome))).toEqual([undefined, undefined])
    // Shop's third and fourth waited for one of shop's own sessions, none came back within connectTimeoutMs.
    for (const t of shopTxs.slice(2)) {
      const error = (await t.outcome) as Error
      expect(error).toBeInstanceOf(TransactionAbortedError)
      expect(error.message).toMatch(/caller "shop" holds 2 of "pg"'s sessions, its share \(0\.5 of the pool, limits\.perToken\.poolShare\), and none came back within 1000 ms/)
    }
    for (const t of shopTxs.slice(0, 2)) t.release()
    expect(await Promise.all(shopTxs.slice(0, 2).map((t) => t.outcome))).toEqual([undefined, undefined])
    expect(await ids()).toEqual([1, 2, 11, 12])
    expect(arbiter.coordinator.poolShares.held('pg', 'shop')).toBe(0)
  })

  it("a caller's next branch takes the session its own finished transaction gives back", async () => {
    await dbs.pgQuery('DELETE FROM accounts')
    const [a, b, c] = [21, 22, 23].map((id) => holdSession(shop, id)) as [Held, Held, Held]
    await Promise.all([a.opened, b.opened])
    await new Promise((resolve) => setTimeout(resolve, 200))
    a.release() // c waits for shop's share: a's session passes to it
    await c.opened
    b.release()
    c.release()
    expect(await Promise.all([a.outcome, b.outcome, c.outcome])).toEqual([undefined, undefined, undefined])
    expect(await ids()).toEqual([21, 22, 23])
    expect(arbiter.coordinator.poolShares.held('pg', 'shop')).toBe(0)
  })

  it("a token's own poolShare of 1 lets it hold the whole pool", async () => {
    await dbs.pgQuery('DELETE FROM accounts')
    const txs = [31, 32, 33, 34].map((id) => holdSession(batch, id))
    await Promise.all(txs.map((t) => t.opened))
    for (const t of txs) t.release()
    expect(await Promise.all(txs.map((t) => t.outcome))).toEqual([undefined, undefined, undefined, undefined])
    expect(await ids()).toEqual([31, 32, 33, 34])
  })
})
