// An operator forces a resolution of a branch whose transaction is still
// live on the TM: prepared, its Commit between the prepares and the decision
// (a fail point holds it there). Whatever the store, the caller is told what
// happened: never a retryable ABORTED over a branch the operator committed
// (a retry would apply it twice), never COMMITTED over one rolled back.
// Found by hostile testing: on the shared store the decision's insert
// conflicted with the resolution's row and the Commit answered "presumed
// aborted by a node that took this one over" (ABORTED, retryable) while
// PostgreSQL had committed; on either store a Commit that then missed its
// deadline answered a retryable ABORTED over the committed branch.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgGidToXid } from '../../../adapters/xid/xid.js'
import { fromGrpcError } from '../../../client/errors.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'

const HELD_MS = 4_000

describe.each(['file', 'postgres'] as const)('a forced resolution while the Commit is between prepare and decision (%s store)', (store) => {
  let dbs: TestDatabases
  let tm: ArbiterProcess
  let nodeId = ''
  let id = 0

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), `forced${store}`)
    const log = store === 'file' ? { store } : { store, url: await createDatabase(sharedServerUrls().pgUrl, 'forcedstore') }
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { log },
    )
    nodeId = config.nodeId!
    tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `after-prepare=sleep:${HELD_MS}` })
  })
  afterAll(async () => {
    await tm?.destroy()
    await dbs?.close()
  })

  /** A transaction writing row `n` on both, its Commit sent and held after its prepares; the pg branch's XID. */
  async function heldCommit(timeoutMs = 30_000) {
    const n = ++id
    const client = tmClient(tm.address)
    const { gtrid } = await client.tm.Begin({ timeoutMs })
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(n) }] } })
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: String(n) }] } })
    const commit = client.tm.Commit({ gtrid }).finally(() => client.close())
    void commit.catch(() => undefined)
    await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg.length, { timeout: 5_000, interval: 50 }).toBe(1)
    const gid = (await dbs.preparedLeft(nodeId)).pg[0]!
    const xid = pgGidToXid(gid)!
    return { n, gtrid, commit, xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual } }
  }

  async function force(xid: { formatId: number; gtrid: Buffer; bqual: Buffer }, resolution: 'RESOLUTION_COMMIT' | 'RESOLUTION_ROLLBACK') {
    const { admin, close } = adminClient(tm.address)
    try {
      return await admin.ResolveBranch({ resource: 'pg', xid, resolution, reason: 'hostile operator', force: true })
    } finally {
      close()
    }
  }

  async function rows(n: number): Promise<{ pg: number; maria: number }> {
    return {
      pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [n])).length,
      maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [n])).length,
    }
  }

  it('committed by hand, then the decision: COMMITTED, and it is', async () => {
    const t = await heldCommit()
    expect((await force(t.xid, 'RESOLUTION_COMMIT')).heuristic).toBe(true)
    expect((await t.commit).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rows(t.n)).toEqual({ pg: 1, maria: 1 })
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 10_000 }).toEqual({ pg: [], mysql: [] })
  })

  it('committed by hand, then the Commit misses its deadline: a mixed outcome, not to be retried', async () => {
    const t = await heldCommit(HELD_MS - 1_500)
    await force(t.xid, 'RESOLUTION_COMMIT')
    const error = fromGrpcError(await grpcError(t.commit))
    expect(error.code).toBe('TM_HEURISTIC_MIXED')
    expect(error.message).toContain('resolved to commit by')
    expect(error.message).toContain('Do not retry')
    expect(await rows(t.n)).toEqual({ pg: 1, maria: 0 })
  })

  it('rolled back by hand: the transaction rolls back whole, ABORTED naming the operator, not retryable', async () => {
    const t = await heldCommit()
    await force(t.xid, 'RESOLUTION_ROLLBACK')
    const error = fromGrpcError(await grpcError(t.commit))
    expect(error.code).toBe('TM_TX_ABORTED')
    expect(error.message).toContain('resolved to rollback by')
    expect(error.metadata.retryable).toBe('false')
    expect(await rows(t.n)).toEqual({ pg: 0, maria: 0 })
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 10_000 }).toEqual({ pg: [], mysql: [] })
  })
})

describe('a forced rollback while the decision is being logged', () => {
  let dbs: TestDatabases
  let tm: ArbiterProcess
  let nodeId = ''

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), 'forcedlate')
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    nodeId = config.nodeId!
    // Past the last check of the Commit's own doom, just before the decision is written.
    tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `before-decision=sleep:${HELD_MS}` })
  })
  afterAll(async () => {
    await tm?.destroy()
    await dbs?.close()
  })

  it('the decision goes on, the branch stays rolled back: HEURISTIC, never COMMITTED', async () => {
    const client = tmClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      const commit = client.tm.Commit({ gtrid })
      void commit.catch(() => undefined)
      await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg.length, { timeout: 5_000, interval: 50 }).toBe(1)
      const xid = pgGidToXid((await dbs.preparedLeft(nodeId)).pg[0]!)!
      const { admin, close } = adminClient(tm.address)
      await admin.ResolveBranch({ resource: 'pg', xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }, resolution: 'RESOLUTION_ROLLBACK', reason: 'late', force: true })
      close()
      const answered = await commit.then(
        (r) => `answered ${r.transaction?.state}`,
        (e: unknown) => fromGrpcError(e).code,
      )
      expect(answered).not.toBe('answered TRANSACTION_STATE_COMMITTED')
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 10_000 }).toBe('TRANSACTION_STATE_HEURISTIC')
      expect({ pg: (await dbs.pgQuery('SELECT 1 FROM accounts')).length, maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts')).length }).toEqual({ pg: 0, maria: 1 })
      // The Commit's own answer says so, as an error: a client that reads only the status (the TypeScript
      // client did) must not take a successful answer with state HEURISTIC for committed.
      expect(answered).toBe('TM_HEURISTIC_MIXED')
    } finally {
      client.close()
    }
  })
})
