// A Run that names a transaction the TM already knows. A repeat of that Run
// (its answer was lost) gets the first outcome, whatever the TM's config
// says now; a name used otherwise is refused (FAILED_PRECONDITION, nothing
// run). Found by hostile testing: a Run on a name a Begin and a Commit had
// used was told COMMITTED although its statements never ran; a second Run
// with other statements on the same name was told the first one's outcome;
// and a repeat after a SIGKILL and a restart with a lower statement limit
// was refused as bad input ("not committed") for a Run that had committed.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, startTestArbiter, testConfig } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'runrepeat')
})
afterAll(async () => {
  await dbs?.close()
})

const insert = (id: number) => ({ resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: String(id) }] })
const rows = async (id: number): Promise<number> => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length

describe('a Run naming a transaction the TM knows', () => {
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let client: ReturnType<typeof tmClient>
  beforeAll(async () => {
    arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }])
    client = tmClient(arbiter.address)
  })
  afterAll(async () => {
    client?.close()
    await arbiter?.stopAndClean()
  })

  it('one a Commit ended: refused, nothing run (it was told COMMITTED without running)', async () => {
    const { gtrid } = await client.tm.Begin({})
    await client.tm.Commit({ gtrid })
    const refused = await grpcError(client.tm.Run({ gtrid, statements: [insert(1)] }))
    expect(refused.code).toBe(status.FAILED_PRECONDITION)
    expect(refused.details).toMatch(/not by a Run.*Nothing was run/)
    expect(await rows(1)).toBe(0)
  })

  it('one with work from Execute: refused, nothing run (its Commit was not this Run to make)', async () => {
    const { gtrid } = await client.tm.Begin({})
    await client.tm.Execute({ gtrid, statement: insert(2) })
    const refused = await grpcError(client.tm.Run({ gtrid, statements: [insert(3)] }))
    expect(refused.code).toBe(status.FAILED_PRECONDITION)
    expect(refused.details).toMatch(/already has work from Execute/)
    await client.tm.Rollback({ gtrid })
    expect(await rows(2)).toBe(0)
    expect(await rows(3)).toBe(0)
  })

  it('one the TM rolled back (its deadline passed) before the Run came: ABORTED, as any request in it hears', async () => {
    const { gtrid } = await client.tm.Begin({ timeoutMs: 200 })
    await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 5_000 }).toBe('TRANSACTION_STATE_ROLLED_BACK')
    const refused = await grpcError(client.tm.Run({ gtrid, statements: [insert(6)] }))
    expect(refused.code).toBe(status.ABORTED)
    expect(await rows(6)).toBe(0)
  })

  it('one a Run ran: the same statements are its repeat (the first outcome); other statements are refused', async () => {
    const { gtrid } = await client.tm.Begin({})
    const first = await client.tm.Run({ gtrid, statements: [insert(4)] })
    expect(first.transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    const repeat = await client.tm.Run({ gtrid, statements: [insert(4)] })
    expect(repeat.transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    const other = await grpcError(client.tm.Run({ gtrid, statements: [insert(5)] }))
    expect(other.code).toBe(status.FAILED_PRECONDITION)
    expect(other.details).toMatch(/already run by a Run with other statements/)
    expect(await rows(4)).toBe(1)
    expect(await rows(5)).toBe(0)
  })
})

describe('a repeated one-phase Run after a SIGKILL past its commit and a restart with a lower statement limit', () => {
  it('is answered with its outcome unknown (no record of a one-phase commit), never as refused bad input (not committed)', async () => {
    const config = testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-one-phase-commit=crash' })
    const client = createArbiterClient({ address: tm.address, transport: 'unary' })
    try {
      await client.run([{ resource: 'pg', sql: 'SELECT 1' }]).catch(() => undefined) // learns the TM: the next Run is named by the client
      const running = client.run([{ resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [20] }]).then(
        () => 'committed',
        (error: unknown) => error,
      )
      await tm.exited()
      await tm.spawn({ ARBITER_FAILPOINTS: '', ARBITER_LIMITS__MAX_STATEMENT_BYTES: '20' })
      const outcome = await running
      expect(await rows(20)).toBe(1) // it committed before the TM died
      expect(outcome).toBeInstanceOf(OutcomeUnknownError)
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})

describe('a repeated Run after a SIGKILL past its decision and a restart with a lower statement limit', () => {
  it('is answered COMMITTED (results dropped), not refused as bad input', async () => {
    const config = testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    const tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    // Patient repeats: a loaded machine may take a few seconds to restart the TM.
    const client = createArbiterClient({ address: tm.address, transport: 'unary', outcomeQueryAttempts: 30 })
    try {
      const running = client.run([
        { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [10] },
        { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [10] },
      ])
      await tm.exited()
      // The statements above are longer than 20 bytes: checked now, the repeat would be refused.
      await tm.spawn({ ARBITER_FAILPOINTS: '', ARBITER_LIMITS__MAX_STATEMENT_BYTES: '20' })
      const answer = await running
      expect(answer.transaction.state).toBe('COMMITTED')
      expect(answer.resultsDropped).toBe(true)
      expect(await rows(10)).toBe(1)
      expect((await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = 10')).length).toBe(1)
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})
