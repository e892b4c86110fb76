// A node killed between its decision and phase 2, restarted with a resource
// of that decision renamed. Found by hostile testing: it started, recovery
// (which scans configured resources only) never committed the branch there,
// so it stayed prepared with its row locks while the transaction showed
// COMMITTING for good and `in-doubt` said "phase 2 is running". Now start-up
// refuses that config (exit 2, naming the resource and the transaction), and
// with the resource back under its name the decision is carried out.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'renamedres')
})
afterAll(async () => {
  await dbs?.close()
})

describe('a resource renamed while a decision names it', () => {
  it('start-up refuses the config, naming it; put back, the decision is carried out', async () => {
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = tmClient(tm.address)
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: '1' }] } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: '1' }] } })
      await client.tm.Commit({ gtrid }).catch(() => undefined) // the TM dies after logging the decision
      await tm.exited()
      const refused = await tm.spawn({ ARBITER_RESOURCES__1__NAME: 'mysql' }).then(
        () => undefined,
        (error: unknown) => error as Error,
      )
      expect(refused?.message).toMatch(/exited \(2\) during start-up/)
      expect(tm.logs()).toMatch(new RegExp(`resources: expected every resource that a logged, unfinished COMMIT decision names.*got no resource named "maria" \\(1 transaction: ${gtrid}\\)`))
      await tm.spawn()
      await expect.poll(async () => (await dbs.preparedLeft(config.nodeId!)).mysql, { timeout: 10_000 }).toEqual([])
      expect((await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})
