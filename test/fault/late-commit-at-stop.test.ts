// SIGTERM while a Commit is between its prepares and its decision for
// longer than the grace (a fail point holds it there). Found by hostile
// testing: the Commit logged its decision after the node had closed its
// pools, phase 2 failed ("Pool is closed"), and the node exited 0 with one
// branch committed and the other prepared, holding its row locks until the
// node came back. Now a Commit not yet decided when the grace ends rolls
// back at its decision, while the pools are still open: nothing is left
// prepared, and its caller hears ABORTED (retryable), which is the truth.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, TransactionAbortedError } from '../../client/index.js'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'

const GRACE_MS = 1500
const HELD_MS = 2500

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'latecommit')
})
afterAll(async () => {
  await dbs?.close()
})

describe('a Commit held past the grace of a graceful stop', () => {
  it('rolls back at its decision before the node closes its pools: nothing left prepared at exit, the caller told ABORTED', async () => {
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { shutdownGraceMs: GRACE_MS },
    )
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `after-prepare=sleep:${HELD_MS}` })
    const client = createArbiterClient({ address: tm.address, transport: 'unary' })
    try {
      const told = client
        .transaction(async (tx) => {
          await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [1])
          await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [1])
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        )
      await expect.poll(async () => (await dbs.preparedLeft(config.nodeId!)).mysql.length, { timeout: 5_000, interval: 20 }).toBe(1)
      const exited = tm.exited()
      await tm.stop() // SIGTERM, and waits for the exit
      expect((await exited).code).toBe(0)
      // At exit, before any restart: nothing prepared, nothing half done.
      expect(await dbs.preparedLeft(config.nodeId!)).toEqual({ pg: [], mysql: [] })
      const rows = {
        pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).length,
        maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 1')).length,
      }
      expect(rows).toEqual({ pg: 0, maria: 0 })
      const outcome = await told
      expect(outcome).toBeInstanceOf(TransactionAbortedError)
      expect((outcome as TransactionAbortedError).retryable).toBe(true)
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})
