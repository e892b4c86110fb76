// Requests racing a Run or an ExecuteBatch on the same gtrid (found by
// hostile testing, each with raw gRPC calls as another language's client
// would send them):
// - a Commit racing a Run committed the Run's first statement alone, and the
//   Run was answered "refused, nothing run";
// - an Execute racing a Run had its write committed by the Run;
// - a Commit racing an ExecuteBatch committed its first statement, and the
//   batch's second was refused.
// A Run now claims its transaction before its first statement: other work in
// it is refused (nothing done), and a Commit answers with the Run's outcome.
// A Commit that begins while a batch runs rolls the transaction back.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'runraces')
  await dbs.pgQuery('INSERT INTO accounts VALUES (1, 0)')
  await dbs.mysqlQuery('INSERT INTO accounts VALUES (1, 0)')
  arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
  client = tmClient(arbiter.address)
})
afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

const both = [
  { resource: 'pg', sql: 'UPDATE accounts SET balance = balance + 1 WHERE id = 1' },
  { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + 1 WHERE id = 1' },
]

async function balances(): Promise<{ pg: number; maria: number }> {
  const [pg] = await dbs.pgQuery<{ balance: string }>('SELECT balance FROM accounts WHERE id = 1')
  const [maria] = await dbs.mysqlQuery<{ balance: string }>('SELECT balance FROM accounts WHERE id = 1')
  return { pg: Number(pg!.balance), maria: Number(maria!.balance) }
}

async function reset(): Promise<void> {
  await dbs.pgQuery('UPDATE accounts SET balance = 0 WHERE id = 1')
  await dbs.mysqlQuery('UPDATE accounts SET balance = 0 WHERE id = 1')
}

type Settled = { ok: true; state: string } | { ok: false; code: number; details: string }
const settle = (p: Promise<{ transaction?: { state?: string } | null }>): Promise<Settled> =>
  p.then(
    (r) => ({ ok: true as const, state: String(r.transaction?.state) }),
    (e: { code: number; details: string }) => ({ ok: false as const, code: e.code, details: e.details }),
  )

describe('a Run and other requests on its gtrid at the same time', () => {
  it('a Commit racing a Run answers with the Run outcome; the Run commits all of its statements or none', async () => {
    for (let round = 0; round < 5; round++) {
      await reset()
      const { gtrid } = await client.tm.Begin({})
      const [run, commit] = await Promise.all([settle(client.tm.Run({ gtrid, statements: both })), settle(client.tm.Commit({ gtrid }))])
      const after = await balances()
      expect(after.pg, `round ${round}: ${JSON.stringify({ run, commit })}`).toBe(after.maria)
      expect(run).toEqual({ ok: true, state: 'TRANSACTION_STATE_COMMITTED' })
      expect(after).toEqual({ pg: 1, maria: 1 })
      // Whichever came first, the Commit's answer is the transaction's outcome.
      if (commit.ok) expect(commit.state).toBe('TRANSACTION_STATE_COMMITTED')
      else expect(commit.details).toMatch(/not by a Run|Nothing was/)
    }
  })

  it('an Execute racing a Run is refused, nothing done, and never committed by the Run', async () => {
    for (let round = 0; round < 5; round++) {
      await reset()
      const { gtrid } = await client.tm.Begin({})
      // Sent in this order (the Run first), with the TM free to interleave them.
      const ran = settle(client.tm.Run({ gtrid, statements: both }))
      const extra = client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + 1000 WHERE id = 1' } })
      const [run, execute] = await Promise.all([ran, extra.then(() => 'ok', (e: { code: number; details: string }) => e)])
      const after = await balances()
      if (run.ok) {
        // The Run ran: the Execute was refused, and nothing but the Run's statements committed.
        expect(execute, `round ${round}`).toMatchObject({ code: status.FAILED_PRECONDITION })
        expect(after).toEqual({ pg: 1, maria: 1 })
      } else {
        // The Execute came first: the Run was refused, nothing of it ran.
        expect(run.code).toBe(status.FAILED_PRECONDITION)
        expect(after.pg).toBe(0)
        await client.tm.Rollback({ gtrid })
      }
    }
  })

  it('an Enlist or an ExecuteBatch in a Run transaction is refused and does not roll the Run back', async () => {
    await reset()
    const { gtrid } = await client.tm.Begin({})
    const run = settle(client.tm.Run({ gtrid, statements: [...both, { resource: 'pg', sql: 'SELECT pg_sleep(0.6)' }] }))
    await new Promise((resolve) => setTimeout(resolve, 100))
    const enlist = await grpcError(client.tm.Enlist({ gtrid, resource: 'pg' }))
    expect(enlist.code).toBe(status.FAILED_PRECONDITION)
    expect(enlist.details).toMatch(/is a Run's.*Nothing was done/)
    const batch = await grpcError(client.tm.ExecuteBatch({ gtrid, statements: both }))
    expect(batch.code).toBe(status.FAILED_PRECONDITION)
    // Malformed ones too (found by review: refused before the claim was looked at, they rolled the Run back).
    const malformed = await grpcError(client.tm.Execute({ gtrid }))
    expect(malformed.code).toBe(status.INVALID_ARGUMENT)
    expect(malformed.details).toMatch(/statement is required \(nothing was done: transaction \S+ is a Run's\)/)
    const unknown = await grpcError(client.tm.ExecuteBatch({ gtrid, statements: [{ resource: 'nope', sql: 'SELECT 1' }] }))
    expect(unknown.code).toBe(status.INVALID_ARGUMENT)
    expect(unknown.details).toMatch(/nothing was done/)
    expect(await run).toEqual({ ok: true, state: 'TRANSACTION_STATE_COMMITTED' })
    expect(await balances()).toEqual({ pg: 1, maria: 1 })
  })
})

describe('an ExecuteBatch and a Commit on its gtrid at the same time', () => {
  it('never commits part of the batch', async () => {
    for (let round = 0; round < 5; round++) {
      await reset()
      const { gtrid } = await client.tm.Begin({})
      const [batch, commit] = await Promise.all([
        client.tm.ExecuteBatch({ gtrid, statements: both }).then(() => 'ok', (e: { code: number; details: string }) => e),
        settle(client.tm.Commit({ gtrid })),
      ])
      const after = await balances()
      expect(after.pg, `round ${round}: ${JSON.stringify({ batch, commit })}`).toBe(after.maria)
      if (commit.ok && after.pg === 0) {
        // The Commit came first and committed an empty transaction; the batch was refused, nothing ran.
        expect(batch).not.toBe('ok')
      }
    }
  })
})
