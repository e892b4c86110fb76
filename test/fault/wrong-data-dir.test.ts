// A node killed between its decision and phase 2, restarted on another data
// folder: a relative dataDir from another working directory, or a volume not
// mounted. Found by hostile testing: the new, empty log presumed the logged
// COMMIT aborted and rolled both branches back; started again on the right
// folder, recovery took the missing branches for committed and the status
// said COMMITTED with no row anywhere. Now a branch named before its node's
// log was created is never presumed aborted: it waits, `in-doubt` says why,
// and on the right folder the decision is carried out.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { adminClient, tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
const otherDir = mkdtempSync(join(tmpdir(), 'arbiter-other-data-'))
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'wrongdir')
})
afterAll(async () => {
  rmSync(otherDir, { recursive: true, force: true })
  await dbs?.close()
})

describe('a node restarted on another (empty) data folder', () => {
  it('leaves the decided branches prepared instead of presuming abort; on its own folder it commits them', async () => {
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = tmClient(tm.address)
    let wrong: ArbiterProcess | undefined
    try {
      const { gtrid } = await client.tm.Begin({})
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: '1' }] } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: '1' }] } })
      await client.tm.Commit({ gtrid }).catch(() => undefined) // the TM dies after logging the decision
      await tm.exited()

      wrong = await ArbiterProcess.start({ ...config, dataDir: join(otherDir, 'arbiter-data') })
      const admin = adminClient(wrong.address)
      try {
        await expect
          .poll(async () => (await admin.admin.ListInDoubt({})).branches.filter((b) => b.xid?.gtrid.toString() === gtrid).length, { timeout: 10_000 })
          .toBe(2)
        const listed = (await admin.admin.ListInDoubt({})).branches.filter((b) => b.xid?.gtrid.toString() === gtrid)
        for (const b of listed) expect(b.why).toMatch(/named before this node's decision log was created.*Never presumed aborted/)
        // Two recovery passes later, still prepared.
        await new Promise((resolve) => setTimeout(resolve, 2_000))
        const left = await dbs.preparedLeft(config.nodeId!)
        expect({ pg: left.pg.length, mysql: left.mysql.length }).toEqual({ pg: 1, mysql: 1 })
      } finally {
        admin.close()
        await wrong.destroy()
      }

      await tm.spawn() // its own folder: the decision is there
      await expect.poll(async () => dbs.preparedLeft(config.nodeId!), { timeout: 10_000 }).toEqual({ pg: [], mysql: [] })
      expect((await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
      expect((await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length).toBe(1)
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})
