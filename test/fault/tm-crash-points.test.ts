// A real TM process is SIGKILLed at every named fail point of the commit path
// and restarted on the same data folder. Whatever the point, each transaction
// ends all-committed or all-rolled-back on both databases, the status RPC
// agrees, and no Arbiter branch stays prepared.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
/** The shared store's database (log.store: postgres runs the same points). */
let storeUrl: string
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'crashpoints')
  storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'crashstore')
})
afterAll(async () => {
  await dbs?.close()
})

/** Where the TM dies, and what recovery must make of it ('either' where both are correct). */
const POINTS: [failpoint: string, expected: 'committed' | 'rolled back' | 'either'][] = [
  ['before-prepare', 'rolled back'],
  ['after-prepare', 'rolled back'],
  ['before-decision', 'rolled back'],
  ['log-before-write', 'rolled back'],
  // The record is in the page cache but not fsynced: a process crash keeps it, a power cut might not.
  ['log-before-fsync', 'either'],
  ['after-decision', 'committed'],
  ['after-phase2-commit#1', 'committed'],
  ['before-end', 'committed'],
]

async function rows(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

const CASES = [
  ...POINTS.map(([point, expected], i) => ['file', point, expected, 100 + i] as const),
  // One statement is the postgres store's write and its commit: no separate fsync point.
  ...POINTS.filter(([point]) => point !== 'log-before-fsync').map(([point, expected], i) => ['postgres', point, expected, 200 + i] as const),
]

describe('TM killed at each fail point', () => {
  it.each(CASES)(
    '%s store, at %s: ends %s on both databases',
    async (store, point, expected, id) => {
      const config = testConfig(
        [
          { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
          { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
        ],
        // A short lease: the restarted node waits out its killed run's lease before it joins.
        store === 'postgres' ? { log: { store: 'postgres', url: storeUrl }, cluster: { leaseMs: 1000 } } : {},
      )
      const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `${point}=crash` })
      const client = tmClient(tm.address)
      const { gtrid } = await client.tm.Begin({})
      const p = [{ intValue: String(id) }]
      await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
      await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
      const error = await grpcError(client.tm.Commit({ gtrid }))
      expect(error.code).toBe(status.UNAVAILABLE)
      expect((await tm.exited()).signal).toBe('SIGKILL')
      client.close()

      await tm.spawn() // same data folder and port, no fail points
      const after = tmClient(tm.address)
      await expect.poll(() => dbs.preparedLeft(config.nodeId!), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
      const landed = await rows(id)
      expect([{ pg: 0, maria: 0 }, { pg: 1, maria: 1 }]).toContainEqual(landed) // atomic
      if (expected !== 'either') expect(landed.pg === 1 ? 'committed' : 'rolled back').toBe(expected)
      if (landed.pg === 1) {
        await expect.poll(async () => (await after.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_COMMITTED')
      } else {
        expect((await grpcError(after.tm.GetTransaction({ gtrid }))).code).toBe(status.NOT_FOUND)
      }
      after.close()
      await tm.destroy()
    },
  )
})
