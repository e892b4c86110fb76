// A real TM process is SIGKILLed around the commit point and restarted on
// the same data folder: recovery must finish what was decided and roll back
// what was not.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'crash')
})
afterAll(async () => {
  await dbs?.close()
})

async function rowsWithId(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

/** Starts a TM with a fail point, runs one two-branch transaction into it, and returns once the TM died. */
async function crashDuringCommit(failpoint: string, id: number): Promise<{ tm: ArbiterProcess; gtrid: string; nodeId: string }> {
  const config = testConfig([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
  const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `${failpoint}=crash` })
  const client = tmClient(tm.address)
  const { gtrid } = await client.tm.Begin({})
  await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(id) }] } })
  await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: String(id) }] } })
  const error = await grpcError(client.tm.Commit({ gtrid }))
  expect(error.code).toBe(status.UNAVAILABLE) // the TM died mid-call: the caller cannot know the outcome
  expect((await tm.exited()).signal).toBe('SIGKILL')
  client.close()
  return { tm, gtrid, nodeId: config.nodeId! }
}

describe('TM crash recovery', () => {
  it('killed after the decision is durable: on restart, recovery commits every branch', async () => {
    const { tm, gtrid, nodeId } = await crashDuringCommit('after-decision', 1)
    expect(await rowsWithId(1)).toEqual({ pg: 0, maria: 0 }) // decided, not yet applied
    await tm.spawn()
    const client = tmClient(tm.address)
    await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 20_000 }).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rowsWithId(1)).toEqual({ pg: 1, maria: 1 })
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    client.close()
    await tm.destroy()
  })

  it('killed after one phase-2 commit: on restart, the other branch is committed too', async () => {
    const { tm, gtrid, nodeId } = await crashDuringCommit('after-phase2-commit#1', 2)
    await tm.spawn()
    const client = tmClient(tm.address)
    await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 20_000 }).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rowsWithId(2)).toEqual({ pg: 1, maria: 1 })
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    client.close()
    await tm.destroy()
  })

  it('killed after prepare, before the decision: on restart, the prepared branches are rolled back', async () => {
    const { tm, gtrid, nodeId } = await crashDuringCommit('before-decision', 3)
    const prepared = await dbs.preparedLeft(nodeId)
    expect(prepared.pg).toHaveLength(1)
    expect(prepared.mysql).toHaveLength(1)
    await tm.spawn()
    const client = tmClient(tm.address)
    // Presumed abort, after the grace period (1 s in tests).
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
    expect(await rowsWithId(3)).toEqual({ pg: 0, maria: 0 })
    const late = await grpcError(client.tm.Commit({ gtrid }))
    expect(late.code).toBe(status.NOT_FOUND)
    client.close()
    await tm.destroy()
  })
})
