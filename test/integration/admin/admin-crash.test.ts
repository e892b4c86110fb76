// A real TM process killed right after its COMMIT decision was logged, then
// restarted (without fail points), inspected and recovered with the CLI.
//
// Why the scenario looks like this: at start-up the TM adopts every logged
// decision and commits its branches at once, before the port opens, so a
// branch an operator can see as "will commit" must be one the TM cannot
// commit yet. We use the real case for that: a MariaDB *local* branch (the
// client library's Enlist mode) stays attached to the application's own
// connection while that connection lives, and then XA COMMIT from any other
// session fails with XAER_NOTA while XA RECOVER still lists the branch
// (ARCHITECTURE.md, "A trap on MariaDB"). So after the restart the
// PostgreSQL branch is committed by start-up recovery, and the MariaDB branch
// is in doubt until the application's connection ends: `in-doubt` must list
// it as "will commit" (COMMITTED), a rollback of it is refused (it would
// contradict the decision), and once the connection is gone `recover`
// commits it and the list is empty.
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Metadata, status } from '@grpc/grpc-js'
import { mysqlLocalBranch } from '../../../adapters/mysql/mysql-local-branch.js'
import { xidFromParts, xidToString } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { runAdminCli } from './cli.js'

const APP_TOKEN = 'shop-token-0123456789abcdef'
const ADMIN_TOKEN = 'ops-token-0123456789abcdef'

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'admcrash')
})
afterAll(async () => {
  await dbs?.close()
})

function bearer(): Metadata {
  const md = new Metadata()
  md.set('authorization', `Bearer ${APP_TOKEN}`)
  return md
}

describe('TM killed after the decision', () => {
  it('in-doubt lists the undelivered branch as "will commit"; recover commits it; the list is then empty', async () => {
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      {
        // No periodic pass while we look: only start-up recovery and `recover`.
        recovery: { intervalMs: 3_600_000, graceMs: 1000 },
        transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 60_000, retentionMs: 600_000 },
        auth: {
          tokens: [
            { name: 'shop', role: 'application', token: APP_TOKEN },
            { name: 'ops', role: 'admin', token: ADMIN_TOKEN },
          ],
        },
      },
    )
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const app = await mysql.createConnection({ uri: dbs.mysqlUrl })
    const cli = (...args: string[]) => runAdminCli(['--address', tm.address, ...args], { ARBITER_ADMIN_TOKEN: ADMIN_TOKEN })
    try {
      const client = tmClient(tm.address)
      const { gtrid } = await client.tm.Begin({}, bearer())
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 1)', params: [] } }, bearer())
      const { xid: wire } = await client.tm.Enlist({ gtrid, resource: 'maria' }, bearer())
      const xid = xidFromParts(wire!.formatId, wire!.gtrid, wire!.bqual)
      await mysqlLocalBranch.start(app, xid, 'maria')
      await app.query('INSERT INTO accounts VALUES (1, 1)')
      expect((await mysqlLocalBranch.prepare(app, xid, 'maria')).vote).toBe('prepared')
      const crash = await grpcError(client.tm.Commit({ gtrid, localVotes: [{ bqual: xid.bqual, readOnly: false }] }, bearer()))
      expect(crash.code).toBe(status.UNAVAILABLE)
      expect((await tm.exited()).signal).toBe('SIGKILL')
      client.close()

      await tm.spawn({ ARBITER_FAILPOINTS: '' })
      // Start-up recovery committed the PostgreSQL branch; the MariaDB one is still attached to `app`.
      expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).toHaveLength(1)
      const text = xidToString(xid)
      const table = await cli('in-doubt')
      expect(table.code).toBe(0)
      expect(table.stdout).toContain(text)
      expect(table.stdout).toMatch(/COMMITTED\s*│\s*will commit/)
      const listed = JSON.parse((await cli('in-doubt', '--json', '--resource', 'maria')).stdout)
      expect(listed.branches.find((b: { xid: string }) => b.xid === text)).toMatchObject({
        resource: 'maria',
        gtrid,
        knowledge: 'LOG_KNOWLEDGE_COMMITTED',
      })
      // The TM's own view: COMMITTING, the MariaDB branch still prepared.
      const shown = JSON.parse((await cli('show', '--json', gtrid)).stdout)
      expect(shown.state).toBe('TRANSACTION_STATE_COMMITTING')
      expect(shown.branches.find((b: { resource: string }) => b.resource === 'maria').state).toBe('BRANCH_STATE_PREPARED')

      // Rolling back a branch of a logged COMMIT decision is refused without --force.
      const refused = await cli('resolve', '--resource', 'maria', '--xid', text, '--rollback', '--reason', 'looks stuck')
      expect(refused.code).toBe(1)
      expect(refused.stderr).toMatch(/FAILED_PRECONDITION.*contradicts the logged COMMIT decision/)

      await app.end() // the application's connection ends: the branch detaches
      const recovered = await cli('recover', '--resource', 'maria')
      expect(recovered.code).toBe(0)
      // Whoever came first (this pass or phase 2's own retry), the branch is committed and gone.
      await expect.poll(async () => (await cli('in-doubt', '--resource', 'maria')).stdout, { timeout: 15_000, interval: 500 }).not.toContain(text)
      expect(await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).toHaveLength(1)
      await expect.poll(async () => JSON.parse((await cli('show', '--json', gtrid)).stdout).state, { timeout: 15_000 }).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await dbs.preparedLeft(config.nodeId!)).toEqual({ pg: [], mysql: [] })
    } finally {
      await app.end().catch(() => undefined)
      await tm.destroy()
    }
  })
})
