// A restart with many unfinished decisions in the log (a database was down
// for a long while). Found by hostile testing: every adopted decision started
// its phase 2 at once, so the pools starved: the first recovery pass saw the
// resources as unreachable, the node was slow to listen and logged hundreds
// of warnings (61 000 for 20 000 decisions). Adopted phase 2s now take turns.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newGtrid } from '../../adapters/xid/xid.js'
import { encodeFrame } from '../../server/log/record-frame.js'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { tmClient } from '../helpers/tm-client.js'

const DECISIONS = 2000

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'manydecisions')
})
afterAll(async () => {
  await dbs?.close()
})

describe(`a restart with ${DECISIONS} unfinished decisions in the log`, () => {
  it('starts with its resources reachable, warns little, serves new transactions and finishes every decision', async () => {
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    // The log a node leaves after deciding them with its databases away: decisions, no END. (Their branches are not
    // prepared any more, so each phase 2 finds them done: what is measured is the adoption, not the databases.)
    const logDir = join(config.dataDir!, 'log')
    mkdirSync(logDir, { recursive: true })
    const named = Date.now() - 3_600_000
    const gtrids = Array.from({ length: DECISIONS }, (_, i) => newGtrid(config.nodeId!, named + i))
    const frames = gtrids.map((gtrid, i) =>
      encodeFrame({ type: 'decision', gtrid, at: named + i, branches: [{ resource: 'pg', bqual: '6231' }, { resource: 'maria', bqual: '6232' }] }),
    )
    writeFileSync(join(logDir, 'segment-0000000001.log'), Buffer.concat([Buffer.from('ARBLOG01'), ...frames]))

    const tm = await ArbiterProcess.start(config)
    const client = tmClient(tm.address)
    try {
      const firstPass = tm.logs().split('\n').find((l) => l.includes('start-up recovery done'))!
      expect(JSON.parse(firstPass)).toMatchObject({ unreachable: [] })
      // A new transaction is served meanwhile.
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } })
      expect((await client.tm.Commit({ gtrid })).transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      await expect
        .poll(async () => Promise.all([gtrids[0]!, gtrids[DECISIONS - 1]!].map(async (g) => (await client.tm.GetTransaction({ gtrid: g })).state)), {
          timeout: 60_000,
          interval: 500,
        })
        .toEqual(['TRANSACTION_STATE_COMMITTED', 'TRANSACTION_STATE_COMMITTED'])
      const warnings = tm.logs().split('\n').filter((l) => l.includes('"level":40'))
      expect(warnings.length, warnings.slice(0, 5).join('\n')).toBeLessThan(20)
    } finally {
      client.close()
      await tm.destroy()
    }
  }, 120_000)
})
