// Transactions the client names itself (ExecuteRequest.begin /
// CommitRequest.begin): Begin rides on the first request, the TM refuses
// what it must not begin, and batched CompleteLocalBranches reports.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { ARBITER_FORMAT_ID, mysqlLocalBranch, newGtrid, parseGtrid, postgresLocalBranch, xidFromParts } from '../../../adapters/index.js'
import { createArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>
let nodeId: string
let instance: string

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'named')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    { transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 60_000, retentionMs: 600_000 } },
  )
  client = tmClient(arbiter.address)
  const begun = await client.tm.Begin({})
  nodeId = parseGtrid(begun.gtrid).nodeId
  instance = begun.tmInstance
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

describe('Begin tells a client what it needs to name transactions', () => {
  it('server time, default timeout and this run of the TM', async () => {
    const before = Date.now()
    const begun = await client.tm.Begin({})
    const after = Date.now()
    expect(Number(begun.serverTimeUnixMs)).toBeGreaterThanOrEqual(before)
    expect(Number(begun.serverTimeUnixMs)).toBeLessThanOrEqual(after)
    expect(begun.defaultTimeoutMs).toBe(20_000)
    expect(begun.tmInstance).toMatch(/^[0-9a-f-]{36}$/)
    expect((await client.tm.Begin({})).tmInstance).toBe(begun.tmInstance)
  })
})

describe('Begin riding on the first request', () => {
  it('Execute begins an unknown client-named transaction; its deadline counts from the ULID time', async () => {
    const gtrid = newGtrid(nodeId)
    const namedAt = parseGtrid(gtrid).createdAt.getTime()
    await client.tm.Execute({
      gtrid,
      statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES (501, 5)' },
      begin: { timeoutMs: 7_000, labels: { who: 'named' }, tmInstance: instance },
    })
    // Later requests (with or without begin) find the same transaction.
    await client.tm.Execute({
      gtrid,
      statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (501, 5)' },
      begin: { timeoutMs: 7_000, labels: { who: 'named' }, tmInstance: instance },
    })
    const tx = await client.tm.GetTransaction({ gtrid })
    expect(tx.labels).toEqual({ who: 'named' })
    expect(Number(tx.deadlineUnixMs)).toBe(namedAt + 7_000)
    const { transaction } = await client.tm.Commit({ gtrid })
    expect(transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
    expect(await dbs.pgQuery('SELECT balance FROM accounts WHERE id = 501')).toHaveLength(1)
    expect(await dbs.mysqlQuery('SELECT balance FROM accounts WHERE id = 501')).toHaveLength(1)
  })

  it('Commit begins and commits a transaction of local branches in one request; one batched report completes two', async () => {
    const done: { gtrid: string; bquals: Buffer[] }[] = []
    for (const id of [511, 512]) {
      const gtrid = newGtrid(nodeId)
      const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
      await pgConn.connect()
      const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
      const pgXid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('L1'))
      const myXid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('L2'))
      await postgresLocalBranch.start(pgConn, pgXid, 'pg')
      await pgConn.query('INSERT INTO accounts VALUES ($1, 1)', [id])
      await mysqlLocalBranch.start(myConn, myXid, 'maria')
      await myConn.query('INSERT INTO accounts VALUES (?, 1)', [id])
      expect((await postgresLocalBranch.prepare(pgConn, pgXid, 'pg')).vote).toBe('prepared')
      expect((await mysqlLocalBranch.prepare(myConn, myXid, 'maria')).vote).toBe('prepared')
      const { transaction, commitLocally } = await client.tm.Commit({
        gtrid,
        localVotes: [
          { bqual: pgXid.bqual, resource: 'pg' },
          { bqual: myXid.bqual, resource: 'maria' },
        ],
        begin: { tmInstance: instance },
      })
      expect(transaction?.commitPath).toBe('two-phase')
      expect(commitLocally).toHaveLength(2)
      expect(await postgresLocalBranch.commit(pgConn, pgXid, 'pg')).toBe('done')
      expect(await mysqlLocalBranch.commit(myConn, myXid, 'maria')).toBe('done')
      done.push({ gtrid, bquals: [pgXid.bqual, myXid.bqual] })
      await pgConn.end()
      await myConn.end()
    }
    // Phase 2 waits (localBranchGraceMs is a minute) for the application's report: both in one request.
    for (const { gtrid } of done) expect(arbiter.coordinator.get(gtrid).state).toBe('COMMITTING')
    await client.tm.CompleteLocalBranches({ batch: done.map((d) => ({ gtrid: d.gtrid, committedBquals: d.bquals })) })
    for (const { gtrid } of done) {
      await expect.poll(() => arbiter.coordinator.get(gtrid).state, { timeout: 5_000 }).toBe('COMMITTED')
    }
  })

  it('reports riding on another Commit are applied first; one that cannot be does not fail that Commit', async () => {
    const gtrid = newGtrid(nodeId)
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    try {
      const pgXid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('L1'))
      await postgresLocalBranch.start(pgConn, pgXid, 'pg')
      await pgConn.query('INSERT INTO accounts VALUES (513, 1)')
      expect((await postgresLocalBranch.prepare(pgConn, pgXid, 'pg')).vote).toBe('prepared')
      await client.tm.Commit({ gtrid, localVotes: [{ bqual: pgXid.bqual, resource: 'pg' }], begin: { tmInstance: instance } })
      expect(await postgresLocalBranch.commit(pgConn, pgXid, 'pg')).toBe('done')
      expect(arbiter.coordinator.get(gtrid).state).toBe('COMMITTING') // waits a minute for the report
      // The next transaction's Commit carries the report, and one for a transaction the TM never saw.
      const next = newGtrid(nodeId)
      await client.tm.Execute({ gtrid: next, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (514, 1)' }, begin: { tmInstance: instance } })
      const { transaction } = await client.tm.Commit({
        gtrid: next,
        completedLocal: [
          { gtrid: newGtrid(nodeId), committedBquals: [Buffer.from('L1')] },
          { gtrid, committedBquals: [pgXid.bqual] },
        ],
      })
      expect(transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      await expect.poll(() => arbiter.coordinator.get(gtrid).state, { timeout: 5_000 }).toBe('COMMITTED')
      expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id = 514')).toHaveLength(1)
    } finally {
      await pgConn.end()
    }
  })

  it('a batched report applies every entry it can and names the first it could not', async () => {
    const error = await grpcError(
      client.tm.CompleteLocalBranches({ batch: [{ gtrid: newGtrid(nodeId), committedBquals: [Buffer.from('L1')] }] }),
    )
    expect(error.code).toBe(status.NOT_FOUND)
    expect(error.details).toMatch(/unknown transaction/)
    const empty = await grpcError(client.tm.CompleteLocalBranches({}))
    expect(empty.code).toBe(status.INVALID_ARGUMENT)
    expect(empty.details).toMatch(/nothing to report/)
  })
})

describe('what the TM refuses to begin (ABORTED, retryable, nothing done)', () => {
  const refusals: [string, () => { gtrid: string; tmInstance?: string; timeoutMs?: number }, RegExp][] = [
    ['a gtrid named under another run of the TM', () => ({ gtrid: newGtrid(nodeId), tmInstance: 'an-earlier-run' }), /another run of this TM/],
    ['a gtrid whose time is ahead of the TM clock', () => ({ gtrid: newGtrid(nodeId, Date.now() + 60_000) }), /ms ahead of the TM's clock/],
    ['a gtrid past its deadline', () => ({ gtrid: newGtrid(nodeId, Date.now() - 10_000), timeoutMs: 5_000 }), /deadline passed/],
  ]
  it.each(refusals)('%s', async (_what, make, why) => {
    const { gtrid, tmInstance = instance, timeoutMs = 0 } = make()
    const execute = await grpcError(
      client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' }, begin: { timeoutMs, tmInstance } }),
    )
    expect(execute.code).toBe(status.ABORTED)
    expect(execute.details).toMatch(why)
    expect(execute.details).toMatch(/nothing was done/)
    const commit = await grpcError(client.tm.Commit({ gtrid, begin: { timeoutMs, tmInstance } }))
    expect(commit.code).toBe(status.ABORTED)
    expect(commit.details).toMatch(why)
    // Nothing was begun.
    expect((await grpcError(client.tm.GetTransaction({ gtrid }))).code).toBe(status.NOT_FOUND)
  })

  it('a gtrid of another TM node: never begun here, and never answered as presumed aborted (this node knows nothing of it)', async () => {
    const gtrid = newGtrid('someoneelse')
    const execute = await grpcError(client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' }, begin: { timeoutMs: 0, tmInstance: instance } }))
    expect(execute.code).toBe(status.ABORTED)
    expect(execute.details).toMatch(/names TM node "someoneelse"/)
    const namedCommit = await grpcError(client.tm.Commit({ gtrid, begin: { timeoutMs: 0, tmInstance: instance } }))
    expect(namedCommit.code).toBe(status.ABORTED)
    expect(namedCommit.details).toMatch(/names TM node "someoneelse"/)
    // Named under another run too (a client whose address now reaches another node): still a refused begin, so the
    // client names it again through Begin, not an error.
    const elsewhereNamed = await grpcError(client.tm.Commit({ gtrid, begin: { timeoutMs: 0, tmInstance: 'another-run' } }))
    expect(elsewhereNamed.code).toBe(status.ABORTED)
    expect(elsewhereNamed.details).toMatch(/names TM node "someoneelse"/)
    for (const call of [client.tm.Commit({ gtrid }), client.tm.GetTransaction({ gtrid })]) {
      const refused = await grpcError(call)
      expect(refused.code).toBe(status.FAILED_PRECONDITION)
      expect(refused.details).toMatch(/is node someoneelse's, which this node cannot answer for/)
    }
  })

  it('a malformed gtrid or bad begin options are INVALID_ARGUMENT', async () => {
    const malformed = await grpcError(client.tm.Execute({ gtrid: 'nope', statement: { resource: 'pg', sql: 'SELECT 1' }, begin: { tmInstance: instance } }))
    expect(malformed.code).toBe(status.INVALID_ARGUMENT)
    expect(malformed.details).toMatch(/malformed gtrid/)
    const tooLong = await grpcError(client.tm.Commit({ gtrid: newGtrid(nodeId), begin: { timeoutMs: 10_000_000, tmInstance: instance } }))
    expect(tooLong.code).toBe(status.INVALID_ARGUMENT)
    expect(tooLong.details).toMatch(/over the maximum/)
  })

  it('a gtrid recovery claimed is never begun; a live one cannot be claimed', async () => {
    const claimed = newGtrid(nodeId)
    expect(arbiter.coordinator.claimOrphan(claimed)).toBe(true)
    const refused = await grpcError(client.tm.Commit({ gtrid: claimed, begin: { tmInstance: instance } }))
    expect(refused.code).toBe(status.ABORTED)
    expect(refused.details).toMatch(/presumed abort/)
    const live = newGtrid(nodeId)
    await client.tm.Execute({ gtrid: live, statement: { resource: 'pg', sql: 'SELECT 1' }, begin: { tmInstance: instance } })
    expect(arbiter.coordinator.claimOrphan(live)).toBe(false)
    await client.tm.Rollback({ gtrid: live })
  })
})

describe('the TypeScript client', () => {
  it('calls Begin once, then names its transactions itself (Session stream)', async () => {
    const begin = vi.spyOn(arbiter.coordinator, 'begin')
    const app = createArbiterClient({ address: arbiter.address })
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    try {
      const gtrids: string[] = []
      for (let i = 0; i < 4; i++) {
        gtrids.push(
          await app.transaction(async (tx) => {
            await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [520 + i])
            await tx.enlist('pg', pgConn)
            await pgConn.query('INSERT INTO accounts VALUES ($1, 1)', [520 + i])
            return tx.gtrid
          }),
        )
      }
      // Local branches only: Begin rides on the Commit.
      gtrids.push(
        await app.transaction(async (tx) => {
          await tx.enlist('pg', pgConn)
          await pgConn.query('INSERT INTO accounts VALUES (530, 1)')
          return tx.gtrid
        }),
      )
      expect(begin).toHaveBeenCalledTimes(1)
      for (const gtrid of gtrids) expect((await app.getTransaction(gtrid)).state).toMatch(/COMMITTING|COMMITTED/)
      expect(await dbs.pgQuery('SELECT id FROM accounts WHERE id >= 520 AND id <= 530 ORDER BY id')).toHaveLength(5)
      expect(await dbs.mysqlQuery('SELECT id FROM accounts WHERE id >= 520 AND id <= 530 ORDER BY id')).toHaveLength(4)
      // The reports of the local branches arrive batched: every transaction ends COMMITTED long before the grace.
      for (const gtrid of gtrids) await expect.poll(() => arbiter.coordinator.get(gtrid).state, { timeout: 5_000 }).toBe('COMMITTED')
    } finally {
      begin.mockRestore()
      app.close()
      await pgConn.end()
    }
  })

  it('after a refusal it calls Begin again, and the transaction that was refused rolled back cleanly', async () => {
    const app = createArbiterClient({ address: arbiter.address })
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    try {
      await app.transaction(() => undefined) // learns the TM
      const begin = vi.spyOn(arbiter.coordinator, 'begin')
      // The TM will refuse the next client-named gtrid as if recovery had claimed it.
      const claim = vi.spyOn(arbiter.coordinator, 'claimOrphan')
      const refusedGtrid = await app
        .transaction(async (tx) => {
          arbiter.coordinator.claimOrphan(tx.gtrid)
          await tx.enlist('pg', pgConn)
          await pgConn.query('INSERT INTO accounts VALUES (540, 1)')
          return tx.gtrid
        })
        .then(
          () => 'committed',
          (error: { name?: string; retryable?: boolean; message?: string }) => `${error.name} ${String(error.retryable)} ${error.message}`,
        )
      expect(refusedGtrid).toMatch(/^TransactionAbortedError true .*presumed abort/)
      expect(claim).toHaveBeenCalledTimes(1)
      expect(pgConn.getTransactionStatus?.() ?? 'I').toBe('I')
      expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 540')).toHaveLength(0)
      expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
      await app.transaction(async (tx) => {
        await tx.enlist('pg', pgConn)
        await pgConn.query('INSERT INTO accounts VALUES (541, 1)')
      })
      expect(begin).toHaveBeenCalledTimes(1)
      expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 541')).toHaveLength(1)
      begin.mockRestore()
      claim.mockRestore()
    } finally {
      app.close()
      await pgConn.end()
    }
  })
})

describe('a TM shutting down', () => {
  it('refuses to begin a client-named transaction (nothing done, so the client knows its Commit did nothing)', async () => {
    const tm = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }])
    try {
      const { instance: run } = tm.coordinator
      const node = parseGtrid(tm.coordinator.begin().gtrid).nodeId
      await tm.coordinator.shutdown(0)
      const commit = tm.coordinator.commit(newGtrid(node), [], 'applied', { tmInstance: run })
      await expect(commit).rejects.toMatchObject({ code: 'TM_TX_ABORTED', metadata: { beginRefused: 'true', retryable: 'true' } })
      await expect(commit).rejects.toThrow(/shutting down/)
    } finally {
      await tm.stopAndClean()
    }
  })
})

describe('finished transactions kept in memory', () => {
  it('at most transactions.maxRetained, the oldest forgotten first; a forgotten client-named one cannot begin again', async () => {
    const tm = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
      transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: 1000, retentionMs: 600_000, maxRetained: 2 },
    })
    try {
      const { coordinator } = tm
      const node = parseGtrid(coordinator.begin().gtrid).nodeId
      // (that first transaction stays ACTIVE: live transactions are never forgotten)
      const named = newGtrid(node)
      const begin = { tmInstance: coordinator.instance }
      expect((await coordinator.commit(named, [], 'applied', begin)).tx.state).toBe('COMMITTED')
      const explicit: string[] = []
      for (let i = 0; i < 3; i++) {
        const tx = coordinator.begin()
        await coordinator.commit(tx.gtrid, [], 'applied')
        explicit.push(tx.gtrid)
      }
      coordinator.forgetOld()
      const kept = coordinator.list().filter((t) => t.state === 'COMMITTED').map((t) => t.gtrid)
      expect(kept).toEqual(explicit.slice(1))
      expect(() => coordinator.get(explicit[0]!)).toThrow(/unknown transaction/)
      // The client-named one is gone from memory but not open to a second begin.
      await expect(coordinator.commit(named, [], 'applied', begin)).rejects.toThrow(/already run on this TM/)
    } finally {
      await tm.stopAndClean()
    }
  })
})
