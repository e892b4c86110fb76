// A Redis command the resource could never run is bad input, answered as
// InvalidArgumentError naming what is wrong, as a refused SQL statement is.
// Found by hostile testing: a wrong arity, an unsupported command or a key of
// Arbiter's own came back as TransactionAbortedError, as if the data had
// refused it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, InvalidArgumentError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
const prefix = `refuse${Math.random().toString(36).slice(2, 8)}:`

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'redisrefuse')
  arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'cache', kind: 'redis', url: `${sharedServerUrls().redisUrl}?arbiterPrefix=${prefix}` },
  ])
  client = createArbiterClient({ address: arbiter.address })
})
afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

describe('Redis commands the resource cannot run', () => {
  it.each([
    ['a wrong arity', 'SET', ['k'], /SET: want SET key value/],
    ['an unsupported command', 'FLUSHALL', [], /FLUSHALL/],
    ["a key of Arbiter's own", 'SET', [`${prefix}lock:k`, 'x'], /is one of Arbiter's own/],
    ['its identity key', 'DEL', [`${prefix}identity`], /is one of Arbiter's own/],
  ])('%s: InvalidArgumentError in execute() and run(), and nothing of the transaction ran', async (_name, command, params, message) => {
    await dbs.pgQuery('DELETE FROM accounts')
    const viaExecute = await client
      .transaction(async (tx) => {
        await tx.execute('pg', 'INSERT INTO accounts VALUES (1, 1)')
        await tx.execute('cache', command, params)
      })
      .then(() => undefined, (e: unknown) => e)
    expect(viaExecute).toBeInstanceOf(InvalidArgumentError)
    expect((viaExecute as Error).message).toMatch(message)
    const viaRun = await client
      .run([
        { resource: 'pg', sql: 'INSERT INTO accounts VALUES (2, 1)' },
        { resource: 'cache', sql: command, params },
      ])
      .then(() => undefined, (e: unknown) => e)
    expect(viaRun).toBeInstanceOf(InvalidArgumentError)
    expect((viaRun as Error).message).toMatch(message)
    expect(await dbs.pgQuery('SELECT id FROM accounts')).toEqual([])
  })
})
