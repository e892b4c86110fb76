// Local branches: the application runs its own pg and mysql2 connections,
// prepares them itself, and the TM decides and finishes what it does not.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ARBITER_FORMAT_ID, mysqlLocalBranch, postgresLocalBranch, xidFromParts, type Xid } from '../../../adapters/index.js'
import { status } from '@grpc/grpc-js'
import { grpcError } from '../../helpers/tm-client.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'
import type { Xid__Output } from '../../../proto/gen/arbiter/v1/Xid.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>
let nodeId: string

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'local')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    { transactions: { localBranchGraceMs: 500 } },
  )
  nodeId = arbiter.coordinator.begin().gtrid.split(':')[0]!
  client = tmClient(arbiter.address)
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

const toXid = (x: Xid__Output | null): Xid => xidFromParts(x!.formatId, x!.gtrid, x!.bqual)

async function preparedTransfer(id: number): Promise<{ gtrid: string; pgConn: pg.Client; myConn: mysql.Connection; pgXid: Xid; myXid: Xid }> {
  const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
  await pgConn.connect()
  const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
  const { gtrid } = await client.tm.Begin({})
  const pgXid = toXid((await client.tm.Enlist({ gtrid, resource: 'pg' })).xid)
  const myXid = toXid((await client.tm.Enlist({ gtrid, resource: 'maria' })).xid)
  await postgresLocalBranch.start(pgConn, pgXid, 'pg')
  await pgConn.query('INSERT INTO accounts VALUES ($1, 10)', [id])
  await mysqlLocalBranch.start(myConn, myXid, 'maria')
  await myConn.query('INSERT INTO accounts VALUES (?, 10)', [id])
  expect(await postgresLocalBranch.prepare(pgConn, pgXid, 'pg')).toEqual({ vote: 'prepared' })
  expect(await mysqlLocalBranch.prepare(myConn, myXid, 'maria')).toEqual({ vote: 'prepared' })
  return { gtrid, pgConn, myConn, pgXid, myXid }
}

async function rowsWithId(id: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return { pg: p.length, maria: m.length }
}

describe('local branches', () => {
  it('commit through the TM: the application commits its own prepared branches after the decision', async () => {
    const t = await preparedTransfer(1)
    const { transaction, commitLocally } = await client.tm.Commit({
      gtrid: t.gtrid,
      localVotes: [{ bqual: t.pgXid.bqual }, { bqual: t.myXid.bqual }],
    })
    expect(transaction?.commitPath).toBe('two-phase')
    expect(commitLocally).toHaveLength(2)
    expect(await postgresLocalBranch.commit(t.pgConn, t.pgXid, 'pg')).toBe('done')
    // MariaDB: only the preparing session can commit while it lives.
    expect(await mysqlLocalBranch.commit(t.myConn, t.myXid, 'maria')).toBe('done')
    await client.tm.CompleteLocalBranches({ gtrid: t.gtrid, committedBquals: [t.pgXid.bqual, t.myXid.bqual] })
    await expect.poll(async () => (await client.tm.GetTransaction({ gtrid: t.gtrid })).state).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rowsWithId(1)).toEqual({ pg: 1, maria: 1 })
    await t.pgConn.end()
    await t.myConn.end()
  })

  it('the TM finishes local branches the application never committed (its connections died)', async () => {
    const t = await preparedTransfer(2)
    await client.tm.Commit({ gtrid: t.gtrid, localVotes: [{ bqual: t.pgXid.bqual }, { bqual: t.myXid.bqual }] })
    // The application vanishes without committing: its connections close.
    await t.pgConn.end()
    t.myConn.destroy()
    await expect
      .poll(async () => (await client.tm.GetTransaction({ gtrid: t.gtrid })).state, { timeout: 15_000, interval: 200 })
      .toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rowsWithId(2)).toEqual({ pg: 1, maria: 1 })
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('a local branch the application did not vote for aborts the transaction', async () => {
    const t = await preparedTransfer(3)
    const error = await client.tm.Commit({ gtrid: t.gtrid, localVotes: [{ bqual: t.pgXid.bqual }] }).catch((e: Error) => e)
    expect((error as Error).message).toMatch(/was not prepared by the application/)
    // The application rolls back what it prepared (the client library does this on ABORTED).
    await postgresLocalBranch.rollback(t.pgConn, t.pgXid, 'pg')
    await mysqlLocalBranch.rollback(t.myConn, t.myXid, 'maria')
    expect(await rowsWithId(3)).toEqual({ pg: 0, maria: 0 })
    await t.pgConn.end()
    await t.myConn.end()
  })

  it('mixes a managed branch and a local branch in one transaction', async () => {
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    const { gtrid } = await client.tm.Begin({})
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (4, 10)' } })
    const xid = toXid((await client.tm.Enlist({ gtrid, resource: 'pg' })).xid)
    await postgresLocalBranch.start(pgConn, xid, 'pg')
    await pgConn.query('INSERT INTO accounts VALUES (4, 10)')
    await postgresLocalBranch.prepare(pgConn, xid, 'pg')
    const { commitLocally } = await client.tm.Commit({ gtrid, localVotes: [{ bqual: xid.bqual }] })
    expect(commitLocally).toHaveLength(1)
    await postgresLocalBranch.commit(pgConn, xid, 'pg')
    await client.tm.CompleteLocalBranches({ gtrid, committedBquals: [xid.bqual] })
    await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await rowsWithId(4)).toEqual({ pg: 1, maria: 1 })
    await pgConn.end()
  })

  describe('branches the application names itself (no Enlist call)', () => {
    const named = (gtrid: string, bqual: string): Xid => xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from(bqual))

    it('are announced in Commit, decided with the rest, and finished by the TM when the application vanishes', async () => {
      const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
      await pgConn.connect()
      const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
      const { gtrid } = await client.tm.Begin({})
      const pgXid = named(gtrid, 'L1')
      const myXid = named(gtrid, 'L2')
      await postgresLocalBranch.start(pgConn, pgXid, 'pg')
      await pgConn.query('INSERT INTO accounts VALUES (20, 10)')
      await mysqlLocalBranch.start(myConn, myXid, 'maria')
      await myConn.query('INSERT INTO accounts VALUES (20, 10)')
      // Both really prepared (a branch that voted no would make the TM's commit by XID find nothing).
      expect(await postgresLocalBranch.prepare(pgConn, pgXid, 'pg')).toEqual({ vote: 'prepared' })
      expect(await mysqlLocalBranch.prepare(myConn, myXid, 'maria')).toEqual({ vote: 'prepared' })
      const { transaction, commitLocally } = await client.tm.Commit({
        gtrid,
        localVotes: [
          { bqual: pgXid.bqual, resource: 'pg' },
          { bqual: myXid.bqual, resource: 'maria' },
        ],
      })
      expect(transaction?.commitPath).toBe('two-phase')
      expect(commitLocally.map((x) => x.bqual.toString())).toEqual(['L1', 'L2'])
      await pgConn.end() // never commits locally: the TM does, after its grace period
      myConn.destroy()
      await expect.poll(async () => (await client.tm.GetTransaction({ gtrid })).state, { timeout: 15_000 }).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await rowsWithId(20)).toEqual({ pg: 1, maria: 1 })
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
    })

    it.each([
      [[{ bqual: Buffer.from('L1') }], /never enlisted .* give its resource/],
      [[{ bqual: Buffer.from('b1'), resource: 'pg' }], /needs a bqual "L<n>"/],
      [[{ bqual: Buffer.from('Lfoo'), resource: 'pg' }], /needs a bqual "L<n>"/],
      [[{ bqual: Buffer.from('L1'), resource: 'nope' }], /unknown resource "nope"/],
      [[{ bqual: Buffer.from('L1'), resource: 'pg' }, { bqual: Buffer.from('L1'), resource: 'pg' }], /two local votes/],
    ])('a bad announcement %# is INVALID_ARGUMENT and leaves the transaction active', async (votes, message) => {
      const { gtrid } = await client.tm.Begin({})
      const e = await grpcError(client.tm.Commit({ gtrid, localVotes: votes }))
      expect(e.code).toBe(status.INVALID_ARGUMENT)
      expect(e.details).toMatch(message)
      expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ACTIVE')
      await client.tm.Rollback({ gtrid })
    })
  })
})
