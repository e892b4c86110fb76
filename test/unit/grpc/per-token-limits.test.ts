// Issue #21, item 13: one application token could begin 10,000 transactions
// with 300 s timeouts and starve every other caller. Each token now has its
// own limits: transactions in progress and Begins per second, refused with
// RESOURCE_EXHAUSTED naming the caller and the option, counted per token in
// the metrics; the other callers go on. Unary calls and the Session stream
// (where a client library sends its Begins). Without tokens: no per-caller
// limit, only the node's.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import type { SessionResponse__Output } from '../../../proto/gen/arbiter/v1/SessionResponse.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { newGtrid } from '../../../adapters/index.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { httpGet, parseMetrics, sample } from '../../integration/production/helpers.js'

const SHOP = 'shop-token-0123456789abcdef'
const BILLING = 'billing-token-0123456789abcdef'
const BATCH = 'batch-token-0123456789abcdef'

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata()
  md.set('authorization', `Bearer ${token}`)
  return md
}

let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>

beforeAll(async () => {
  arbiter = await startTestArbiter([], {
    limits: { perToken: { maxActiveTransactions: 3, beginsPerSecond: 0 } },
    auth: {
      tokens: [
        { name: 'shop', role: 'application', token: SHOP },
        { name: 'billing', role: 'application', token: BILLING },
        { name: 'batch', role: 'application', token: BATCH, limits: { beginsPerSecond: 5, beginBurst: 2 } },
      ],
    },
  })
  client = tmClient(arbiter.address)
})
afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
})

const metrics = async (): Promise<Map<string, number>> => parseMetrics((await httpGet(`http://${arbiter.metricsAddress}/metrics`)).body)

describe('per-token limits', () => {
  it('a token at its limit of transactions in progress is refused, naming the limit; the others go on', async () => {
    const shop = await Promise.all([1, 2, 3].map(() => client.tm.Begin({ timeoutMs: 60_000 }, bearer(SHOP))))
    const e = await grpcError(client.tm.Begin({}, bearer(SHOP)))
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED)
    expect(e.details).toBe('caller "shop" has 3 transactions in progress, its limit (limits.perToken.maxActiveTransactions): retry once some have finished')
    // Run checks its statements before it begins anything (this node has no resources: refused as such, nothing begun).
    expect((await grpcError(client.tm.Run({ statements: [{ resource: 'none', sql: 'SELECT 1' }] }, bearer(SHOP)))).code).toBe(grpc.status.INVALID_ARGUMENT)
    // Another caller is not affected.
    const billing = await client.tm.Begin({}, bearer(BILLING))
    // One of shop's ends: shop may begin again.
    await client.tm.Rollback({ gtrid: shop[0]!.gtrid }, bearer(SHOP))
    const again = await client.tm.Begin({}, bearer(SHOP))

    const m = await metrics()
    expect(sample(m, 'arbiter_caller_transactions_active', { caller: 'shop' })).toBe(3)
    expect(sample(m, 'arbiter_caller_transactions_active', { caller: 'billing' })).toBe(1)
    expect(sample(m, 'arbiter_caller_begins_total', { caller: 'shop' })).toBe(4)
    expect(sample(m, 'arbiter_caller_refused_total', { caller: 'shop', limit: 'active' })).toBe(1)
    expect(sample(m, 'arbiter_caller_refused_total', { caller: 'billing', limit: 'active' })).toBe(0)
    for (const { gtrid } of [...shop.slice(1), again]) await client.tm.Rollback({ gtrid }, bearer(SHOP))
    await client.tm.Rollback({ gtrid: billing.gtrid }, bearer(BILLING))
  })

  it("a token's Begins per second (its own override): a burst, then refused with when to retry, then admitted again", async () => {
    const begun = [await client.tm.Begin({}, bearer(BATCH)), await client.tm.Begin({}, bearer(BATCH))]
    const e = await grpcError(client.tm.Begin({}, bearer(BATCH)))
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED)
    expect(e.details).toMatch(
      /^caller "batch" begins more than 5 transactions per second \(auth\.tokens\[2\]\.limits\.beginsPerSecond; bursts of 2, auth\.tokens\[2\]\.limits\.beginBurst\): retry in \d+ ms$/,
    )
    await new Promise((r) => setTimeout(r, 250))
    begun.push(await client.tm.Begin({}, bearer(BATCH)))
    expect(sample(await metrics(), 'arbiter_caller_refused_total', { caller: 'batch', limit: 'rate' })).toBe(1)
    for (const { gtrid } of begun) await client.tm.Rollback({ gtrid }, bearer(BATCH))
  })

  it('Begins on a Session stream count against the token that opened it', async () => {
    const { proto } = loadArbiterProto()
    const raw = new proto.arbiter.v1.TransactionManager(arbiter.address, grpc.credentials.createInsecure())
    const stream = raw.Session(bearer(SHOP))
    const answers: SessionResponse__Output[] = []
    const all = new Promise<void>((resolve) =>
      stream.on('data', (r: SessionResponse__Output) => {
        answers.push(r)
        if (answers.length === 4) resolve()
      }),
    )
    try {
      for (let id = 1; id <= 4; id++) stream.write({ id, begin: { timeoutMs: 60_000 } })
      await all
      const refused = answers.filter((a) => a.error)
      expect(refused).toHaveLength(1)
      expect(refused[0]!.error).toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED, message: expect.stringContaining('caller "shop" has 3 transactions in progress') })
      for (const a of answers) if (a.begin) await client.tm.Rollback({ gtrid: a.begin.gtrid }, bearer(SHOP))
    } finally {
      stream.end()
      raw.close()
    }
  })
})

describe('a refused Commit that would have begun its transaction', () => {
  it('leaves nothing begun: no slot of the caller or the node is held (50 refusals, a limit of 3)', async () => {
    const { gtrid: known, tmInstance } = await client.tm.Begin({}, bearer(BILLING))
    await client.tm.Rollback({ gtrid: known }, bearer(BILLING))
    const nodeId = known.split(':')[0]!
    for (let i = 0; i < 50; i++) {
      const e = await grpcError(
        client.tm.Commit(
          { gtrid: newGtrid(nodeId, Date.now()), begin: { tmInstance }, localVotes: [{ bqual: Buffer.from('L1'), resource: 'nowhere' }] },
          bearer(SHOP),
        ),
      )
      expect(e.code).toBe(grpc.status.INVALID_ARGUMENT)
    }
    const m = await metrics()
    expect(sample(m, 'arbiter_caller_transactions_active', { caller: 'shop' })).toBe(0)
    expect(sample(m, 'arbiter_transactions_active', {})).toBe(0)
    // And the caller can still begin.
    const { gtrid } = await client.tm.Begin({}, bearer(SHOP))
    await client.tm.Rollback({ gtrid }, bearer(SHOP))
  })
})

describe('a transaction begun by its Commit', () => {
  it("counts against its caller's limit like any other (it stays in progress until its local branches are reported)", async () => {
    const held = await Promise.all([1, 2, 3].map(() => client.tm.Begin({ timeoutMs: 60_000 }, bearer(SHOP))))
    const { gtrid: known, tmInstance } = await client.tm.Begin({}, bearer(BILLING))
    await client.tm.Rollback({ gtrid: known }, bearer(BILLING))
    const gtrid = newGtrid(known.split(':')[0]!, Date.now())
    const e = await grpcError(client.tm.Commit({ gtrid, begin: { tmInstance } }, bearer(SHOP)))
    expect(e.code).toBe(grpc.status.RESOURCE_EXHAUSTED)
    expect(e.details).toMatch(/caller "shop" has 3 transactions in progress/)
    for (const { gtrid: g } of held) await client.tm.Rollback({ gtrid: g }, bearer(SHOP))
    // Under the limit it begins and commits in one request.
    const ok = await client.tm.Commit({ gtrid: newGtrid(known.split(':')[0]!, Date.now()), begin: { tmInstance } }, bearer(SHOP))
    expect(ok.transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
  })
})

describe('without tokens', () => {
  it('there is no per-caller limit and no per-caller series: only the node-wide limits apply', async () => {
    const open = await startTestArbiter([], { limits: { perToken: { maxActiveTransactions: 1 } } })
    const c = tmClient(open.address)
    try {
      const begun = await Promise.all([1, 2, 3].map(() => c.tm.Begin({})))
      expect(begun).toHaveLength(3)
      const text = (await httpGet(`http://${open.metricsAddress}/metrics`)).body
      expect(text).not.toContain('arbiter_caller_')
      for (const { gtrid } of begun) await c.tm.Rollback({ gtrid })
    } finally {
      c.close()
      await open.stopAndClean()
    }
  })
})
