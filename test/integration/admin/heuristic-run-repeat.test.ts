// A Run held after its prepares, an operator's forced COMMIT of its pg
// branch, then the Run misses its deadline and rolls the rest back: a mixed
// outcome with no decision logged, only the forced resolution. The Run (and a
// Commit carrying `begin`, with a longer timeout) sent again hears the mixed
// outcome, in memory, once forgotten and after a restart. Found by hostile
// testing: forgotten or restarted, it heard a retryable ABORTED "nothing was
// done", and a Commit(begin) with a longer timeout began the gtrid afresh,
// empty, and answered COMMITTED.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newGtrid, pgGidToXid } from '../../../adapters/xid/xid.js'
import { fromGrpcError } from '../../../client/errors.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../../helpers/tm-client.js'

const answer = (p: Promise<{ transaction?: { state?: string } | null }>): Promise<string> =>
  p.then(
    (r) => `answered ${r.transaction?.state}`,
    (e: unknown) => fromGrpcError(e).code,
  )

describe('a mixed outcome without a decision, asked again', () => {
  let dbs: TestDatabases
  let tm: ArbiterProcess
  let nodeId = ''

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), 'runrepeat')
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { log: { store: 'file' }, transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 1000, retentionMs: 0 } },
    )
    nodeId = config.nodeId!
    tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-prepare=sleep:4000' })
  })
  afterAll(async () => {
    await tm?.destroy()
    await dbs?.close()
  })

  const statements = (n: number) => [
    { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(n) }] },
    { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: String(n) }] },
  ]

  it('GetTransaction says HEURISTIC and a repeated Run or Commit(begin) hears TM_HEURISTIC_MIXED: in memory, forgotten, after a restart', async () => {
    const client = tmClient(tm.address)
    try {
      const { tmInstance } = await client.tm.Begin({})
      const named = newGtrid(nodeId)
      const { gtrid: begun } = await client.tm.Begin({ timeoutMs: 2500 })
      const runs = [
        { gtrid: named, req: { gtrid: named, tmInstance, timeoutMs: 2500, statements: statements(1) } },
        { gtrid: begun, req: { gtrid: begun, statements: statements(2) } },
      ]
      const first = runs.map((r) => answer(client.tm.Run(r.req)))
      await expect.poll(async () => (await dbs.preparedLeft(nodeId)).pg.length, { timeout: 5_000, interval: 50 }).toBe(2)
      const { admin, close } = adminClient(tm.address)
      try {
        for (const gid of (await dbs.preparedLeft(nodeId)).pg) {
          const xid = pgGidToXid(gid)!
          await admin.ResolveBranch({ resource: 'pg', xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }, resolution: 'RESOLUTION_COMMIT', reason: 'forced', force: true })
        }
      } finally {
        close()
      }
      expect(await Promise.all(first)).toEqual(['TM_HEURISTIC_MIXED', 'TM_HEURISTIC_MIXED'])
      expect((await dbs.pgQuery('SELECT count(*)::int AS n FROM accounts'))[0]).toEqual({ n: 2 })
      expect((await dbs.mysqlQuery('SELECT count(*) AS n FROM accounts'))[0]).toEqual({ n: 0 })

      const views = async (when: string): Promise<void> => {
        for (const r of runs) {
          const get = await client.tm.GetTransaction({ gtrid: r.gtrid }).then((t) => String(t.state), (e: unknown) => fromGrpcError(e).code)
          const runAgain = await answer(client.tm.Run(r.req))
          // A longer timeout than the first: never a fresh, empty transaction.
          const commitBegin = await answer(client.tm.Commit({ gtrid: r.gtrid, begin: { tmInstance: r.req.tmInstance ?? '', timeoutMs: 60_000 } }))
          expect({ get, runAgain, commitBegin }, `${when}: ${r.gtrid}`).toEqual({ get: 'TRANSACTION_STATE_HEURISTIC', runAgain: 'TM_HEURISTIC_MIXED', commitBegin: 'TM_HEURISTIC_MIXED' })
        }
      }
      await views('in memory')
      await new Promise((resolve) => setTimeout(resolve, 6_000)) // retentionMs 0: forgotten at the next sweep
      await views('forgotten')
      await tm.kill()
      await tm.spawn()
      await views('after a restart')
    } finally {
      client.close()
    }
  })

  it('a client-named transaction rolled back and forgotten is never begun afresh by a Commit with a longer timeout', async () => {
    const client = tmClient(tm.address)
    try {
      const { tmInstance } = await client.tm.Begin({})
      const gtrid = newGtrid(nodeId)
      await client.tm.Execute({ gtrid, begin: { tmInstance, timeoutMs: 2000 }, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (10, 1)' } })
      await client.tm.Rollback({ gtrid })
      await new Promise((resolve) => setTimeout(resolve, 6_000)) // past its own deadline, and forgotten (retentionMs 0)
      const again = await answer(client.tm.Commit({ gtrid, begin: { tmInstance, timeoutMs: 60_000 } }))
      expect(again).not.toBe('answered TRANSACTION_STATE_COMMITTED')
      expect(again).toBe('TM_TX_ABORTED')
    } finally {
      client.close()
    }
  })
})
