// Every bad input gets its status code and a message naming the problem,
// and the server stays up.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseGtrid } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import type { Value } from '../../../proto/gen/arbiter/v1/Value.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'badinput')
  arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
    limits: { maxStatementBytes: 1000 },
    transactions: { maxTimeoutMs: 60_000 },
  })
  client = tmClient(arbiter.address)
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

async function active(): Promise<string> {
  return (await client.tm.Begin({})).gtrid
}

async function executeError(sql: string, params: Value[] = [], resource = 'pg'): Promise<{ code: number; details: string }> {
  const gtrid = await active()
  const e = await grpcError(client.tm.Execute({ gtrid, statement: { resource, sql, params } }))
  return { code: e.code, details: e.details }
}

describe('timestamps', () => {
  it('RFC 3339 with an offset is stored as the instant it names (trailing zeros past the millisecond too)', async () => {
    const { gtrid } = await client.tm.Begin({})
    const answer = await client.tm.Execute({
      gtrid,
      statement: { resource: 'pg', sql: "SELECT to_char($1::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')", params: [{ timestampValue: '2026-03-01 14:34:56.123000+02:00' }] },
    })
    await client.tm.Rollback({ gtrid })
    expect(answer.result!.rows[0]!.values[0]!.stringValue).toBe('2026-03-01 12:34:56.123000')
  })

  it('a PostgreSQL result finer than a millisecond comes back exactly (it was cut to the millisecond)', async () => {
    const { gtrid } = await client.tm.Begin({})
    const answer = await client.tm.Execute({
      gtrid,
      statement: { resource: 'pg', sql: "SELECT '2026-03-01 12:34:56.12345+00'::timestamptz, '2026-03-01 12:34:56.5'::timestamp, '2026-03-01 12:34:56.000001'::timestamp" },
    })
    await client.tm.Rollback({ gtrid })
    expect(answer.result!.rows[0]!.values.map((v) => v.timestampValue)).toEqual(['2026-03-01T12:34:56.123450+00:00', '2026-03-01T12:34:56.500Z', '2026-03-01T12:34:56.000001Z'])
  })
})

describe('bad input', () => {
  it.each([
    ['an unknown resource', () => executeError('SELECT 1', [], 'nope'), status.INVALID_ARGUMENT, /unknown resource "nope" \(configured: pg\)/],
    ['empty SQL', () => executeError('   '), status.INVALID_ARGUMENT, /statement is empty/],
    ['oversized SQL', () => executeError('SELECT ' + '1+'.repeat(600) + '1'), status.INVALID_ARGUMENT, /over the limit of 1000/],
    ['a COMMIT inside the branch', () => executeError('COMMIT'), status.INVALID_ARGUMENT, /would end or escape the branch/],
    ['PREPARE TRANSACTION inside the branch', () => executeError("PREPARE TRANSACTION 'x'"), status.INVALID_ARGUMENT, /would end or escape/],
    ['an XA statement', () => executeError("XA END 'x'"), status.INVALID_ARGUMENT, /would end or escape/],
    ['several statements', () => executeError('SELECT 1; SELECT 2'), status.INVALID_ARGUMENT, /several statements/],
    ['a parameter with no value', () => executeError('SELECT $1', [{}]), status.INVALID_ARGUMENT, /parameter 1: no value set/],
    ['a malformed decimal', () => executeError('SELECT $1::numeric', [{ decimalValue: '12,5' }]), status.INVALID_ARGUMENT, /parameter 1: "12,5" is not a decimal/],
    ['a malformed timestamp', () => executeError('SELECT $1', [{ timestampValue: 'yesterday' }]), status.INVALID_ARGUMENT, /not an RFC 3339 timestamp/],
    // Found by hostile testing: Date() took each of these, as another instant (or cut it short), and it was stored.
    ['a timestamp that is only a number', () => executeError('SELECT $1', [{ timestampValue: '1' }]), status.INVALID_ARGUMENT, /"1" is not an RFC 3339 timestamp \(expected e\.g\./],
    ['a timestamp in words', () => executeError('SELECT $1', [{ timestampValue: 'March 7, 2020' }]), status.INVALID_ARGUMENT, /not an RFC 3339 timestamp/],
    ['a timestamp without an offset', () => executeError('SELECT $1', [{ timestampValue: '2020-01-01T00:00:00' }]), status.INVALID_ARGUMENT, /date, time and offset/],
    ['a day that does not exist', () => executeError('SELECT $1', [{ timestampValue: '2020-02-30T00:00:00Z' }]), status.INVALID_ARGUMENT, /there is no 2020-02-30/],
    ['a timestamp finer than a millisecond', () => executeError('SELECT $1', [{ timestampValue: '2026-03-01T12:34:56.123456Z' }]), status.INVALID_ARGUMENT, /finer than a millisecond/],
    ['malformed JSON', () => executeError('SELECT $1::jsonb', [{ jsonValue: '{' }]), status.INVALID_ARGUMENT, /not valid JSON/],
    ['a NUL in a string', () => executeError('SELECT $1', [{ stringValue: 'a\u0000b' }]), status.INVALID_ARGUMENT, /NUL/],
  ])('%s → its status and message', async (_, call, code, message) => {
    const { code: got, details } = await call()
    expect(got).toBe(code)
    expect(details).toMatch(message)
  })

  it('an unknown gtrid is NOT_FOUND; another node\'s is not this node\'s to answer; a malformed one INVALID_ARGUMENT; an empty one INVALID_ARGUMENT', async () => {
    const own = parseGtrid((await client.tm.Begin({})).gtrid).nodeId
    const unknown = await grpcError(client.tm.Commit({ gtrid: `${own}:01JAAAAAAAAAAAAAAAAAAAAAAA` }))
    expect(unknown.code).toBe(status.NOT_FOUND)
    expect(unknown.details).toMatch(/presumed aborted/)
    // A node on its own log knows nothing of another node's transactions: never NOT_FOUND (presumed aborted) for them.
    for (const call of [client.tm.Commit({ gtrid: 'test:01JAAAAAAAAAAAAAAAAAAAAAAA' }), client.tm.GetTransaction({ gtrid: 'test:01JAAAAAAAAAAAAAAAAAAAAAAA' })]) {
      const elsewhere = await grpcError(call)
      expect(elsewhere.code).toBe(status.FAILED_PRECONDITION)
      expect(elsewhere.details).toMatch(/is node test's, which this node cannot answer for: this node .* is not in a cluster/)
    }
    const malformed = await grpcError(client.tm.GetTransaction({ gtrid: "x'; DROP TABLE accounts; --" }))
    expect(malformed.code).toBe(status.INVALID_ARGUMENT)
    expect(malformed.details).toMatch(/malformed gtrid/)
    expect((await grpcError(client.tm.Rollback({ gtrid: '' }))).code).toBe(status.INVALID_ARGUMENT)
  })

  it('a call in the wrong state is FAILED_PRECONDITION; after a rollback it is ABORTED', async () => {
    const committed = await active()
    await client.tm.Execute({ gtrid: committed, statement: { resource: 'pg', sql: 'SELECT 1' } })
    await client.tm.Commit({ gtrid: committed })
    const e1 = await grpcError(client.tm.Execute({ gtrid: committed, statement: { resource: 'pg', sql: 'SELECT 1' } }))
    expect(e1.code).toBe(status.FAILED_PRECONDITION)
    expect(e1.details).toMatch(/it is COMMITTED/)
    expect((await grpcError(client.tm.Rollback({ gtrid: committed }))).code).toBe(status.FAILED_PRECONDITION)
    const rolled = await active()
    await client.tm.Rollback({ gtrid: rolled })
    expect((await grpcError(client.tm.Enlist({ gtrid: rolled, resource: 'pg' }))).code).toBe(status.ABORTED)
  })

  it('a timeout over the maximum is refused with the limit named', async () => {
    const e = await grpcError(client.tm.Begin({ timeoutMs: 3_600_000 }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect(e.details).toMatch(/maximum of 60000/)
  })

  it('a local vote for a branch never enlisted is INVALID_ARGUMENT and leaves the transaction usable', async () => {
    const gtrid = await active()
    const e = await grpcError(client.tm.Commit({ gtrid, localVotes: [{ bqual: Buffer.from('zz') }] }))
    expect(e.code).toBe(status.INVALID_ARGUMENT)
    expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ACTIVE')
  })

  it('SQL that fails on the server aborts the transaction with the server\'s reason, not a crash', async () => {
    const { code, details } = await executeError('SELECT * FROM no_such_table')
    expect(code).toBe(status.ABORTED)
    expect(details).toMatch(/no_such_table/)
  })

  it('stays up after all of that', async () => {
    const { transaction } = await client.tm.Run({ statements: [{ resource: 'pg', sql: 'SELECT 1' }] })
    expect(transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
  })
})
