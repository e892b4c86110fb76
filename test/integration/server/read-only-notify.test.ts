// A PostgreSQL branch that wrote nothing but ran NOTIFY (pg_notify) has no
// transaction id until its COMMIT, so the read-only probe calls it a reader.
// Found by hostile testing: such a branch was committed with a plain COMMIT
// in phase 1, so listeners were told of a payment whose transaction then
// rolled back. A reader is now never prepared nor committed early: it stays
// open and ends with the transaction (committed after the writer, rolled
// back with it), so its NOTIFY goes out only for a transaction that commits.
import pg from 'pg'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, TransactionAbortedError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let listener: pg.Client
let redis: Redis
const prefix = `notify${Math.random().toString(36).slice(2, 8)}:`
const heard: string[] = []

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'ronotify')
  arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    { name: 'cache', kind: 'redis', url: `${sharedServerUrls().redisUrl}?arbiterPrefix=${prefix}` },
  ])
  client = createArbiterClient({ address: arbiter.address })
  redis = new Redis(sharedServerUrls().redisUrl)
  listener = new pg.Client({ connectionString: dbs.pgUrl })
  await listener.connect()
  listener.on('notification', (n) => heard.push(n.payload ?? ''))
  await listener.query('LISTEN payments')
})
afterAll(async () => {
  client?.close()
  redis?.disconnect()
  await listener?.end()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

/** What the listener heard starting with `tag`, once NOTIFY had time to arrive. */
async function heardOf(tag: string): Promise<string[]> {
  await dbs.pgQuery('SELECT 1') // a round trip on another session; then a short wait for the listener's socket
  await new Promise((resolve) => setTimeout(resolve, 300))
  return heard.filter((h) => h.startsWith(tag))
}

async function failure(p: Promise<unknown>): Promise<Error> {
  return p.then(
    () => {
      throw new Error('expected the transaction to fail')
    },
    (e: unknown) => e as Error,
  )
}

describe('NOTIFY on a PostgreSQL branch that wrote nothing', () => {
  it('one writer that votes no (one-phase path): rolled back, and nobody is notified', async () => {
    await redis.set(`${prefix}u:n1`, 'not a number')
    const error = await failure(
      client.transaction(async (tx) => {
        await tx.execute('pg', "SELECT pg_notify('payments', 'one-phase: order 1 paid')")
        await tx.execute('cache', 'INCRBY', [`${prefix}u:n1`, 1])
      }),
    )
    expect(error).toBeInstanceOf(TransactionAbortedError)
    expect(await heardOf('one-phase')).toEqual([])
  })

  it('two writers, one votes no (two-phase path): rolled back, nobody notified, nothing written', async () => {
    await redis.set(`${prefix}u:n2`, 'not a number')
    const error = await failure(
      client.transaction(async (tx) => {
        await tx.execute('pg', "SELECT pg_notify('payments', 'two-phase: order 2 paid')")
        await tx.execute('maria', 'INSERT INTO accounts VALUES (2, 1)')
        await tx.execute('cache', 'INCRBY', [`${prefix}u:n2`, 1])
      }),
    )
    expect(error).toBeInstanceOf(TransactionAbortedError)
    expect(await heardOf('two-phase')).toEqual([])
    expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = 2')).toEqual([])
  })

  it('beside a writer that commits: committed, and the notification goes out, once the writer committed', async () => {
    await client.transaction(async (tx) => {
      await tx.execute('pg', "SELECT pg_notify('payments', 'beside: order 3 paid')")
      await tx.execute('maria', 'INSERT INTO accounts VALUES (3, 1)')
    })
    expect(await heardOf('beside')).toEqual(['beside: order 3 paid'])
    expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = 3')).toEqual([{ id: 3 }])
  })

  it('alone in its transaction: committed in one phase, and the notification goes out', async () => {
    const gtrid = await client.transaction(async (tx) => {
      await tx.execute('pg', "SELECT pg_notify('payments', 'alone: order 4 paid')")
      return tx.gtrid
    })
    expect(await heardOf('alone')).toEqual(['alone: order 4 paid'])
    const info = await client.getTransaction(gtrid)
    expect(info.state).toBe('COMMITTED')
    expect(info.branches.map((b) => b.state)).toEqual(['READ_ONLY'])
  })

  it('readers only: nothing left prepared, the read-only path', async () => {
    const { gtrid } = await client.transaction(async (tx) => {
      await tx.execute('pg', 'SELECT 1')
      await tx.execute('maria', 'SELECT 1')
      return { gtrid: tx.gtrid }
    })
    const info = await client.getTransaction(gtrid)
    expect(info.state).toBe('COMMITTED')
    expect(info.branches.map((b) => b.state).sort()).toEqual(['READ_ONLY', 'READ_ONLY'])
    expect((await dbs.pgQuery('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')).length).toBe(0)
  })
})
