// An operator's resolution of a branch of a decided transaction, judged while
// the branch was listed prepared, and logged only after phase 2 committed the
// branch (and maybe after END): the transaction committed whole, and every
// view says COMMITTED, in memory, once forgotten and after a restart. Found by
// hostile testing: the late record opened a new entry without a decision, and
// the transaction read ROLLED_BACK or NOT_FOUND ("presumed aborted"), or
// HEURISTIC after a restart for a forced rollback that had found the branch
// committed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { pgGidToXid } from '../../../adapters/xid/xid.js'
import { fromGrpcError } from '../../../client/errors.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../../helpers/tm-client.js'

const CASES = [
  // Logged after phase 2 committed the branch and after END.
  { when: 'after END', store: 'file', resolution: 'RESOLUTION_COMMIT', failpoints: 'after-decision=sleep:2500;before-resolution=sleep:4500' },
  { when: 'after END', store: 'postgres', resolution: 'RESOLUTION_ROLLBACK', failpoints: 'after-decision=sleep:2500;before-resolution=sleep:4500' },
  // Logged after END, and after the transaction was forgotten from memory (retention 2 s, swept every 5 s): only the
  // log tells the rollback found the branch committed (found by a full run under load: HEURISTIC in every view).
  { when: 'after END, forgotten', store: 'postgres', resolution: 'RESOLUTION_ROLLBACK', failpoints: 'after-decision=sleep:1000;before-resolution=sleep:9500' },
  // Logged after phase 2 committed the branch, before END.
  { when: 'between phase 2 and END', store: 'file', resolution: 'RESOLUTION_ROLLBACK', failpoints: 'after-decision=sleep:1500;before-resolution=sleep:3000;before-end=sleep:4000' },
] as const

describe.each(CASES)('a resolution ($resolution) logged $when ($store store)', ({ store, resolution, failpoints }) => {
  let dbs: TestDatabases
  let tm: ArbiterProcess
  let nodeId = ''

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), `late${store}`)
    const log = store === 'file' ? { store } : { store, url: await createDatabase(sharedServerUrls().pgUrl, 'latestore') }
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { log, transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 1000, retentionMs: 2000 } },
    )
    nodeId = config.nodeId!
    tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: failpoints })
  })
  afterAll(async () => {
    await tm?.destroy()
    await dbs?.close()
  })

  /** What the TM service (GetTransaction, a repeated Commit) and the Admin service say of gtrid. */
  async function told(gtrid: string): Promise<Record<string, string>> {
    const c = tmClient(tm.address)
    const { admin, close } = adminClient(tm.address)
    try {
      return {
        get: await c.tm.GetTransaction({ gtrid }).then((t) => String(t.state), (e: unknown) => fromGrpcError(e).code),
        commitAgain: await c.tm.Commit({ gtrid }).then((t) => String(t.transaction?.state), (e: unknown) => fromGrpcError(e).code),
        admin: await admin.GetTransaction({ gtrid }).then((t) => String(t.state), (e: unknown) => fromGrpcError(e).code),
      }
    } finally {
      c.close()
      close()
    }
  }

  it('the transaction committed whole, and every view says COMMITTED: in memory, once forgotten, after a restart', async () => {
    const client = tmClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (1, 1)' } })
      const commit = client.tm.Commit({ gtrid }).then((r) => String(r.transaction?.state), (e: unknown) => fromGrpcError(e).code)
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 5_000, interval: 50 }).toBe('TRANSACTION_STATE_COMMITTING')
      const xid = pgGidToXid((await dbs.preparedLeft(nodeId)).pg[0]!)!
      const { admin, close } = adminClient(tm.address)
      try {
        await admin.ResolveBranch({ resource: 'pg', xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }, resolution, reason: 'late', force: resolution === 'RESOLUTION_ROLLBACK' })
      } finally {
        close()
      }
      expect(await commit).toBe('TRANSACTION_STATE_COMMITTED')
      expect({ pg: (await dbs.pgQuery('SELECT 1 FROM accounts')).length, maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts')).length }).toEqual({ pg: 1, maria: 1 })
      const committed = { get: 'TRANSACTION_STATE_COMMITTED', commitAgain: 'TRANSACTION_STATE_COMMITTED', admin: 'TRANSACTION_STATE_COMMITTED' }
      await expect.poll(() => told(gtrid), { timeout: 10_000, interval: 250 }).toEqual(committed)
      // Forgotten from memory (retentionMs 2 s, swept every few seconds): the log answers.
      await new Promise((resolve) => setTimeout(resolve, 8_000))
      expect(await told(gtrid), 'forgotten').toEqual(committed)
      await tm.kill()
      await tm.spawn()
      expect(await told(gtrid), 'after a restart').toEqual(committed)
    } finally {
      client.close()
    }
  })
})
