// A request larger than the TM receives in one message (limits.maxMessageBytes)
// is refused by the client before it is sent, as InvalidArgumentError naming
// the limit: it never ran. Found by hostile testing: the TM refused the
// stream's message, read as ResourceExhaustedError (retryable, though a retry
// can never fit) or, for a Run, as an unknown outcome after 5 s of re-sending.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, InvalidArgumentError, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

const LIMIT = 1024 * 1024

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'toolarge')
  await dbs.pgQuery('CREATE TABLE blobs (id int PRIMARY KEY, b bytea)')
  arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], { limits: { maxMessageBytes: LIMIT } })
  client = createArbiterClient({ address: arbiter.address })
})
afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

describe('a request over the TM message limit', () => {
  it('execute() and run(): InvalidArgumentError naming limits.maxMessageBytes at once; nothing ran; the others on the stream go on', async () => {
    const big = Buffer.alloc(LIMIT + 1000, 1)
    const started = Date.now()
    const others = [1, 2, 3].map((id) => client.run([{ resource: 'pg', sql: 'INSERT INTO blobs VALUES ($1, $2)', params: [id, Buffer.from('small')] }]))
    const viaExecute = await client
      .transaction(async (tx) => {
        await tx.execute('pg', 'INSERT INTO blobs VALUES ($1, $2)', [10, Buffer.from('first')])
        await tx.execute('pg', 'INSERT INTO blobs VALUES ($1, $2)', [11, big])
      })
      .then(() => undefined, (e: unknown) => e)
    const viaRun = await client.run([{ resource: 'pg', sql: 'INSERT INTO blobs VALUES ($1, $2)', params: [12, big] }]).then(() => undefined, (e: unknown) => e)
    for (const error of [viaExecute, viaRun]) {
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as Error).message).toMatch(new RegExp(`over the ${LIMIT} bytes the TM receives in one message \\(limits\\.maxMessageBytes on the TM\\)`))
    }
    expect(Date.now() - started).toBeLessThan(3_000) // refused at once, not after re-sending
    await Promise.all(others)
    expect((await dbs.pgQuery<{ id: number }>('SELECT id FROM blobs ORDER BY id')).map((r) => r.id)).toEqual([1, 2, 3])
  })
})
