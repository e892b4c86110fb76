// Every limit is hit once, with its status code and a message naming it
// (docs/running-a-node.md, "Limits"). The server stays usable after each.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { createArbiterClient, type ArbiterError } from '../../../client/index.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>
let nodeId: string
const int = (n: number) => ({ intValue: String(n) })

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'limits')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      { name: 'redis', kind: 'redis', url: sharedServerUrls().redisUrl },
      // One session and a short wait for it: pool exhaustion.
      { name: 'tiny', kind: 'postgres', url: dbs.pgUrl, poolSize: 1, connectTimeoutMs: 500 },
      // One session and a long wait for it: a rollback must not wait that long.
      { name: 'tinyPatient', kind: 'mysql', url: dbs.mysqlUrl, poolSize: 1, connectTimeoutMs: 30_000 },
    ],
    {
      limits: {
        maxActiveTransactions: 5,
        maxBranchesPerTransaction: 2,
        maxStatementBytes: 200,
        maxParams: 3,
        maxRows: 5,
        maxLabels: 2,
        maxLabelBytes: 64,
        maxMessageBytes: 4096,
      },
      transactions: { defaultTimeoutMs: 10_000, maxTimeoutMs: 20_000, localBranchGraceMs: 500, retentionMs: 60_000 },
    },
  )
  nodeId = arbiter.coordinator.begin().gtrid.split(':')[0]!
  client = tmClient(arbiter.address)
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

async function begin(): Promise<string> {
  return (await client.tm.Begin({})).gtrid
}

describe('limits', () => {
  it('limits.maxActiveTransactions → RESOURCE_EXHAUSTED; a slot frees when one ends', async () => {
    const live = arbiter.coordinator.list().filter((t) => t.state === 'ACTIVE').length
    const gtrids: string[] = []
    for (let i = live; i < 5; i++) gtrids.push(await begin())
    const e = await grpcError(client.tm.Begin({}))
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(e.details).toMatch(/5 transactions are active \(limits\.maxActiveTransactions\): retry later/)
    for (const gtrid of gtrids) await client.tm.Rollback({ gtrid })
    for (const tx of arbiter.coordinator.list()) if (tx.state === 'ACTIVE') await arbiter.coordinator.rollback(tx.gtrid, 'test')
    await client.tm.Rollback({ gtrid: await begin() })
  })

  it('limits.maxBranchesPerTransaction → INVALID_ARGUMENT', async () => {
    const gtrid = await begin()
    await client.tm.Enlist({ gtrid, resource: 'pg' })
    await client.tm.Enlist({ gtrid, resource: 'maria' })
    const e = await grpcError(client.tm.Enlist({ gtrid, resource: 'pg' }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/already has 2 branches \(limits\.maxBranchesPerTransaction\)/)
    await client.tm.Rollback({ gtrid })
  })

  it('limits.maxStatementBytes → INVALID_ARGUMENT, for SQL and for Redis commands', async () => {
    for (const [resource, sql] of [
      ['pg', `SELECT '${'x'.repeat(300)}'`],
      ['redis', `SET k ${'x'.repeat(300)}`],
    ] as const) {
      const gtrid = await begin()
      const e = await grpcError(client.tm.Execute({ gtrid, statement: { resource, sql } }))
      expect(e.code).toBe(status.INVALID_ARGUMENT)
      expect(e.details).toMatch(/over the limit of 200 \(limits\.maxStatementBytes\)/)
      await client.tm.Rollback({ gtrid })
    }
  })

  it('limits.maxParams → INVALID_ARGUMENT', async () => {
    const gtrid = await begin()
    const e = await grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT $1, $2, $3, $4', params: [int(1), int(2), int(3), int(4)] } }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/4 parameters, over the limit of 3 \(limits\.maxParams\)/)
    await client.tm.Rollback({ gtrid })
  })

  it('a statement still running when a pipelined Commit arrives, then over maxRows: that Commit rolls back instead of committing (one writer and two)', async () => {
    for (const [id, writers] of [[7101, ['pg']], [7102, ['pg', 'maria']]] as const) {
      const gtrid = await begin()
      for (const resource of writers) {
        await client.tm.Execute({ gtrid, statement: { resource, sql: `INSERT INTO accounts VALUES (${id}, 1)` } })
      }
      // Slow enough that Commit arrives while it runs, and 10 rows: over the limit of 5.
      const overLimit = grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT g FROM generate_series(1, 10) g, pg_sleep(0.3)' } }))
      await new Promise((r) => setTimeout(r, 100))
      const commit = grpcError(client.tm.Commit({ gtrid }))
      expect((await overLimit).code).toBe(status.INVALID_ARGUMENT)
      const commitError = await commit
      expect(commitError.code).toBe(status.ABORTED)
      expect(commitError.details).toMatch(/more rows than limits\.maxRows allows/)
      expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ROLLED_BACK')
      expect(await dbs.pgQuery('SELECT id FROM accounts WHERE id = $1', [id])).toEqual([])
      expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = ?', [id])).toEqual([])
    }
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('a branch whose begin fails (no pooled connection in time) while a pipelined Commit waits for it: the Commit rolls back, nothing stays PREPARING', async () => {
    const holder = await begin()
    await client.tm.Execute({ gtrid: holder, statement: { resource: 'tiny', sql: 'SELECT 1' } }) // holds tiny's only session
    try {
      for (const [id, sql] of [[7104, 'SELECT 1'], [7105, 'INSERT INTO accounts VALUES (7105, 1)']] as const) {
        const gtrid = await begin()
        await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: `INSERT INTO accounts VALUES (${id}, 1)` } })
        // A new branch on "tiny" (a plain read, then a write): its begin waits 500 ms for a session, then fails.
        const waiting = grpcError(client.tm.Execute({ gtrid, statement: { resource: 'tiny', sql } }))
        await new Promise((r) => setTimeout(r, 100))
        const commit = grpcError(client.tm.Commit({ gtrid }))
        expect((await waiting).code).toBe(status.ABORTED)
        expect((await commit).code).toBe(status.ABORTED)
        expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ROLLED_BACK')
        expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = ?', [id])).toEqual([])
      }
    } finally {
      await client.tm.Rollback({ gtrid: holder })
    }
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('a statement that fails while a pipelined Commit waits for it: ABORTED for both, nothing committed', async () => {
    const gtrid = await begin()
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (7103, 1)' } })
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (7103, 1)' } })
    const failing = grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT pg_sleep(0.3), 1 / 0' } }))
    await new Promise((r) => setTimeout(r, 100))
    const commit = grpcError(client.tm.Commit({ gtrid }))
    const e = await failing
    expect(e.code).toBe(status.ABORTED)
    expect(e.details).toMatch(/division by zero/)
    expect((await commit).code).toBe(status.ABORTED)
    expect(await dbs.pgQuery('SELECT id FROM accounts WHERE id = 7103')).toEqual([])
    expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = 7103')).toEqual([])
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('limits.maxRows → INVALID_ARGUMENT naming the limit, on PostgreSQL and MariaDB; the transaction is rolled back', async () => {
    for (const [resource, sql] of [
      ['pg', 'SELECT g FROM generate_series(1, 10) g'],
      ['maria', 'SELECT seq FROM seq_1_to_10'],
    ] as const) {
      const gtrid = await begin()
      const ok = await client.tm.Execute({ gtrid, statement: { resource, sql: sql.replace('10', '5') } })
      expect(ok.result?.rows).toHaveLength(5)
      const e = await grpcError(client.tm.Execute({ gtrid, statement: { resource, sql } }))
      expect(e.code).toBe(status.INVALID_ARGUMENT)
      expect(e.details).toMatch(new RegExp(`statement on "${resource}" returned 10 rows, over the limit of 5 \\(limits\\.maxRows\\): the transaction was rolled back`))
      expect((await grpcError(client.tm.Commit({ gtrid }))).code).toBe(status.ABORTED)
    }
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('limits.maxLabels and limits.maxLabelBytes → INVALID_ARGUMENT', async () => {
    let e = await grpcError(client.tm.Begin({ labels: { a: '1', b: '2', c: '3' } }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/more than 2 labels \(limits\.maxLabels\)/)
    e = await grpcError(client.tm.Begin({ labels: { order: 'x'.repeat(100) } }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/labels take 105 bytes, over the limit of 64 \(limits\.maxLabelBytes\)/)
  })

  it('limits.maxMessageBytes → RESOURCE_EXHAUSTED from grpc-js before the handler runs', async () => {
    const gtrid = await begin()
    const e = await grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: `SELECT '${'x'.repeat(10_000)}'` } }))
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED)
    expect(e.details).toMatch(/message larger than max \(\d+ vs\.? 4096\)/i)
    await client.tm.Rollback({ gtrid })
  })

  it('a BatchedSession stream keeps its batches under limits.maxMessageBytes both ways: 120 requests made at once are each answered', async () => {
    const app = createArbiterClient({ address: arbiter.address })
    try {
      // 120 requests and 120 answers in one turn: about 6 and 20 KB, over the TM's 4096 bytes in one message.
      const gtrids = Array.from({ length: 120 }, (_, i) => `${nodeId}:01ARZ3NDEKTSV4RRFFQ69G${String(i).padStart(4, '0')}`)
      const answers = await Promise.allSettled(gtrids.map((gtrid) => app.getTransaction(gtrid)))
      const codes = answers.map((a) => (a.status === 'rejected' ? (a.reason as ArbiterError).code : 'answered'))
      expect(new Set(codes)).toEqual(new Set(['TM_TX_NOT_FOUND']))
    } finally {
      app.close()
    }
  })

  it('transactions.maxTimeoutMs bounds Begin (INVALID_ARGUMENT); a transaction past its deadline is ABORTED', async () => {
    const e = await grpcError(client.tm.Begin({ timeoutMs: 30_000 }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/timeout_ms 30000 is over the maximum of 20000 \(transactions\.maxTimeoutMs\)/)
    const { gtrid } = await client.tm.Begin({ timeoutMs: 200 })
    await new Promise((resolve) => setTimeout(resolve, 400))
    const late = await grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } }))
    expect(late.code).toBe(status.ABORTED)
    expect(late.details).toMatch(/deadline of 200 ms exceeded/)
  })

  it('an exhausted pool makes a caller wait at most the resource connectTimeoutMs, then ABORTED (retryable), not forever', async () => {
    const holder = await begin()
    await client.tm.Execute({ gtrid: holder, statement: { resource: 'tiny', sql: 'SELECT 1' } }) // holds the only session
    const waiter = await begin()
    const started = Date.now()
    const e = await grpcError(client.tm.Execute({ gtrid: waiter, statement: { resource: 'tiny', sql: 'SELECT 1' } }))
    const waited = Date.now() - started
    expect(waited).toBeGreaterThanOrEqual(400)
    expect(waited).toBeLessThan(5000)
    expect(e.code).toBe(status.ABORTED)
    expect(e.details).toMatch(/statement on "tiny" failed: .*(timeout|no connection)/i)
    await client.tm.Rollback({ gtrid: holder })
    // The session is back: the resource works again.
    const again = await begin()
    await client.tm.Execute({ gtrid: again, statement: { resource: 'tiny', sql: 'SELECT 1' } })
    await client.tm.Commit({ gtrid: again })
  })

  it('a transaction rolled back while its branch waits for a pooled connection stops waiting at once, long before connectTimeoutMs', async () => {
    const holder = await begin()
    await client.tm.Execute({ gtrid: holder, statement: { resource: 'tinyPatient', sql: 'SELECT 1' } }) // holds the only session
    const waiter = await begin()
    const waiting = grpcError(client.tm.Execute({ gtrid: waiter, statement: { resource: 'tinyPatient', sql: 'SELECT 1' } }))
    await new Promise((r) => setTimeout(r, 200))
    const started = Date.now()
    const rolledBack = await client.tm.Rollback({ gtrid: waiter })
    expect(rolledBack.transaction?.state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    const e = await waiting
    expect(Date.now() - started).toBeLessThan(5_000)
    expect(e.code).toBe(status.ABORTED)
    await client.tm.Rollback({ gtrid: holder })
    // The abandoned wait kept no session: the resource works again.
    const again = await begin()
    await client.tm.Execute({ gtrid: again, statement: { resource: 'tinyPatient', sql: 'SELECT 1' } })
    await client.tm.Commit({ gtrid: again })
  })
})
