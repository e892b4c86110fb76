// Statements through the TM that try to end or escape their branch, on real
// PostgreSQL and MariaDB (issue #19.1): a write followed by an escape attempt
// is never committed outside the decision. The first line is the statement
// guard; the second is the servers' own word after each statement (a branch
// that left its transaction makes the transaction HEURISTIC, never
// "rolled back, retry"); a MariaDB trigger that ends the branch (XA END) is
// caught by the server refusing the TM's own XA END.
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdapter } from '../../../adapters/create-adapter.js'
import type { BranchSession, ResourceAdapter, Xid } from '../../../adapters/types.js'
import { BranchEscapedError } from '../../../adapters/types.js'
import { ARBITER_FORMAT_ID, newGtrid, xidFromParts, xidToMysqlLiteral } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>
let nodeId: string
let nextId = 1000

const int = (n: number) => ({ intValue: String(n) })
const PG_INSERT = 'INSERT INTO accounts VALUES ($1, $2)'
const MY_INSERT = 'INSERT INTO accounts VALUES (?, ?)'

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'escape')
  arbiter = await startTestArbiter([
    { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
    { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
  ])
  nodeId = arbiter.coordinator.begin().gtrid.split(':')[0]!
  client = tmClient(arbiter.address)
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

async function rowIn(resource: 'pg' | 'maria', id: number): Promise<boolean> {
  const rows = resource === 'pg' ? await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id]) : await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])
  return rows.length > 0
}

/** The XID of the transaction's branch on `resource`, as GetTransaction tells anyone who asks. */
async function branchXid(gtrid: string, resource: string): Promise<Xid> {
  const tx = await client.tm.GetTransaction({ gtrid })
  const b = tx.branches.find((x) => x.resource === resource)!
  return xidFromParts(b.xid!.formatId, Buffer.from(b.xid!.gtrid), Buffer.from(b.xid!.bqual))
}

describe('escape attempts through Execute', () => {
  // Each: a statement built from the branch's own XID, refused before it runs.
  const attempts: { resource: 'pg' | 'maria'; sql: (xid: Xid) => string }[] = [
    { resource: 'maria', sql: (x) => `/*!XA END ${xidToMysqlLiteral(x)}*/` },
    { resource: 'maria', sql: (x) => `/*M!100000 XA END ${xidToMysqlLiteral(x)}*/` },
    { resource: 'maria', sql: (x) => `SET STATEMENT max_statement_time=10 FOR XA END ${xidToMysqlLiteral(x)}` },
    { resource: 'maria', sql: (x) => `#\rSELECT 1\nXA END ${xidToMysqlLiteral(x)}` },
    { resource: 'maria', sql: (x) => `PREPARE s FROM 'XA END ${xidToMysqlLiteral(x).replace(/'/g, "''")}'` },
    { resource: 'maria', sql: (x) => `EXECUTE IMMEDIATE 'XA END ${xidToMysqlLiteral(x).replace(/'/g, "''")}'` },
    { resource: 'maria', sql: () => 'CALL escape_branch()' },
    { resource: 'maria', sql: () => 'SET autocommit=1' },
    { resource: 'maria', sql: () => 'SET @@autocommit=1' },
    { resource: 'maria', sql: () => 'SET @a = 1, autocommit = 1' },
    { resource: 'pg', sql: () => '-- hidden\rCOMMIT' },
    { resource: 'pg', sql: () => '/* a /* nested */ b */ COMMIT' },
    { resource: 'pg', sql: () => 'END' },
    { resource: 'pg', sql: (x) => `PREPARE TRANSACTION 'mine-${x.gtrid.toString('hex').slice(-8)}'` },
    { resource: 'pg', sql: () => 'SET LOCAL transaction_isolation = serializable' },
  ]

  it.each(attempts.map((a, i) => [i, a.resource, a] as const))('attempt %i on %s is refused, rolls the transaction back, and no write commits', async (_i, resource, attempt) => {
    const id = nextId++
    const { gtrid } = await client.tm.Begin({ timeoutMs: 20_000 })
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: PG_INSERT, params: [int(id), int(1)] } })
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: MY_INSERT, params: [int(id), int(1)] } })
    const sql = attempt.sql(await branchXid(gtrid, resource))
    const refused = await grpcError(client.tm.Execute({ gtrid, statement: { resource, sql } }))
    expect(refused.code, refused.details).toBe(status.INVALID_ARGUMENT)
    expect(refused.details).toMatch(/was rolled back/)
    // The same rule as a failed statement: the transaction is over, a Commit cannot commit the rest.
    expect((await client.tm.GetTransaction({ gtrid })).state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    expect((await grpcError(client.tm.Commit({ gtrid }))).code).toBe(status.ABORTED)
    expect(await rowIn('pg', id)).toBe(false)
    expect(await rowIn('maria', id)).toBe(false)
    expect(await dbs.preparedLeft(nodeId)).toEqual({ pg: [], mysql: [] })
  })

  it('a refused statement in a batch, and a parameter the TM cannot decode, roll back as well', async () => {
    const id = nextId++
    const { gtrid } = await client.tm.Begin({})
    const batch = await grpcError(
      client.tm.ExecuteBatch({
        gtrid,
        statements: [
          { resource: 'maria', sql: MY_INSERT, params: [int(id), int(1)] },
          { resource: 'maria', sql: 'XA END X\'00\'' },
        ],
      }),
    )
    expect(batch.code).toBe(status.INVALID_ARGUMENT)
    expect(batch.details).toMatch(/statement 2 of 2/)
    expect(await rowIn('maria', id)).toBe(false)

    const second = await client.tm.Begin({})
    await client.tm.Execute({ gtrid: second.gtrid, statement: { resource: 'pg', sql: PG_INSERT, params: [int(id), int(1)] } })
    const bad = await grpcError(client.tm.Execute({ gtrid: second.gtrid, statement: { resource: 'pg', sql: 'SELECT $1', params: [{ decimalValue: 'not a number' }] } }))
    expect(bad.code).toBe(status.INVALID_ARGUMENT)
    expect((await client.tm.GetTransaction({ gtrid: second.gtrid })).state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    expect(await rowIn('pg', id)).toBe(false)
  })

  it('a MariaDB trigger that ends the branch (XA END) cannot get its write committed: the TM\'s own XA END is refused and everything rolls back', async () => {
    const id = nextId++
    const { gtrid } = await client.tm.Begin({ timeoutMs: 20_000 })
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: PG_INSERT, params: [int(id), int(1)] } })
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'SELECT 1' } })
    const x = await branchXid(gtrid, 'maria')
    const table = `trig_${id}`
    await dbs.mysqlQuery(`CREATE TABLE ${table} (id int PRIMARY KEY) ENGINE=InnoDB`)
    await dbs.mysqlQuery(`CREATE TRIGGER ${table}_end BEFORE INSERT ON ${table} FOR EACH ROW XA END ${xidToMysqlLiteral(x)}`)
    // Passes the guard (a plain INSERT); the trigger leaves the branch IDLE.
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: `INSERT INTO ${table} VALUES (?)`, params: [int(id)] } })
    const commit = await grpcError(client.tm.Commit({ gtrid }))
    expect(commit.code).toBe(status.ABORTED)
    expect(await rowIn('pg', id)).toBe(false)
    expect(await dbs.mysqlQuery(`SELECT 1 FROM ${table}`)).toHaveLength(0)
    await expect.poll(() => dbs.preparedLeft(nodeId), { timeout: 5000 }).toEqual({ pg: [], mysql: [] })
  })
})

describe('the servers\' own word after each statement', () => {
  let pgAdapter: ResourceAdapter
  let myAdapter: ResourceAdapter
  beforeAll(async () => {
    pgAdapter = createAdapter({ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 2 })
    myAdapter = createAdapter({ name: 'maria', kind: 'mysql', url: dbs.mysqlUrl, poolSize: 2 })
    await Promise.all([pgAdapter.init(), myAdapter.init()])
  })
  afterAll(async () => {
    await pgAdapter?.close()
    await myAdapter?.close()
  })
  const xid = (): Xid => xidFromParts(ARBITER_FORMAT_ID, Buffer.from(newGtrid(nodeId)), Buffer.from('b1'))

  it('MariaDB: a statement after which the session is no longer in its XA transaction fails as escaped', async () => {
    const x = xid()
    const s: BranchSession = await myAdapter.begin(x)
    await s.execute('INSERT INTO accounts VALUES (?, 1)', [{ kind: 'int', value: BigInt(nextId++) }])
    // Executable comments get past the adapter's own check; the coordinator's guard refuses them.
    await s.execute(`/*!XA END ${xidToMysqlLiteral(x)}*/`, []) // still "in a transaction" (IDLE): not visible here
    const escaped = await s.execute(`/*!XA COMMIT ${xidToMysqlLiteral(x)} ONE PHASE*/`, []).catch((e: unknown) => e)
    expect(escaped).toBeInstanceOf(BranchEscapedError)
    await s.release()
  })

  it('PostgreSQL: a statement that ends the block fails as escaped', async () => {
    const s = await pgAdapter.begin(xid())
    await s.execute('SELECT 1', [])
    const escaped = await s.execute('COMMIT', []).catch((e: unknown) => e)
    expect(escaped).toBeInstanceOf(BranchEscapedError)
    await s.release()
  })
})

describe('a branch that escaped despite the guard', () => {
  // A guard that missed a spelling, played by an adapter that sends COMMIT for one magic text
  // (the database still behaves for real): the TM must not say "rolled back, retry".
  let tm: Awaited<ReturnType<typeof startTestArbiter>>
  let tmc: ReturnType<typeof tmClient>
  beforeAll(async () => {
    const pgReal = createAdapter({ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 2 })
    const begin = async (...args: Parameters<ResourceAdapter['begin']>): Promise<BranchSession> => {
      const session = await pgReal.begin(...args)
      const execute = session.execute.bind(session)
      return Object.assign(session, {
        execute: (sql: string, ...rest: Parameters<BranchSession['execute']> extends [string, ...infer R] ? R : never) =>
          execute(sql === 'SELECT missed_by_the_guard()' ? 'COMMIT' : sql, ...rest),
      })
    }
    const holey = new Proxy(pgReal, {
      get: (target, prop) => {
        if (prop === 'begin') return begin
        const value: unknown = Reflect.get(target, prop)
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
      },
    })
    const maria = createAdapter({ name: 'maria', kind: 'mysql', url: dbs.mysqlUrl, poolSize: 2 })
    tm = await startTestArbiter([], {}, { adapters: [holey, maria] })
    tmc = tmClient(tm.address)
  })
  afterAll(async () => {
    tmc?.close()
    await tm?.stopAndClean()
  })

  it('is reported HEURISTIC (not ABORTED), the branch ESCAPED, the other branch rolled back', async () => {
    const id = nextId++
    const { gtrid } = await tmc.tm.Begin({})
    await tmc.tm.Execute({ gtrid, statement: { resource: 'maria', sql: MY_INSERT, params: [int(id), int(1)] } })
    await tmc.tm.Execute({ gtrid, statement: { resource: 'pg', sql: PG_INSERT, params: [int(id), int(1)] } })
    const error = await grpcError(tmc.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT missed_by_the_guard()' } }))
    expect(error.code).toBe(status.INTERNAL)
    expect(error.details).toMatch(/mixed outcome.*escaped its transaction.*Do not retry/s)
    const tx = await tmc.tm.GetTransaction({ gtrid })
    expect(tx.state).toBe('TRANSACTION_STATE_HEURISTIC')
    expect(tx.branches.find((b) => b.resource === 'pg')?.state).toBe('BRANCH_STATE_ESCAPED')
    expect(tx.branches.find((b) => b.resource === 'maria')?.state).toBe('BRANCH_STATE_ROLLED_BACK')
    // Which is the truth: PostgreSQL committed on its own, MariaDB rolled back.
    expect(await rowIn('pg', id)).toBe(true)
    expect(await rowIn('maria', id)).toBe(false)
    expect((await grpcError(tmc.tm.Commit({ gtrid }))).code).toBe(status.INTERNAL)
  })
})

describe('found by review: what a statement leaves behind, and statements that race a Commit', () => {
  it('MySQL: parameters are bound before the text is judged (a placeholder inside a comment cannot carry code)', async () => {
    const id = nextId++
    const { gtrid } = await client.tm.Begin({})
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: MY_INSERT, params: [int(id), int(1)] } })
    const x = await branchXid(gtrid, 'maria')
    const error = await grpcError(
      client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: '/*+ ? */ SELECT 1', params: [{ stringValue: `*/ XA END ${xidToMysqlLiteral(x)} #` }] } }),
    )
    expect(error.code).toBe(status.ABORTED)
    expect(error.details).toMatch(/parameters bound/)
    expect(await rowIn('maria', id)).toBe(false)
    expect((await grpcError(client.tm.Commit({ gtrid }))).code).toBe(status.ABORTED)
  })

  it('a statement accepted before a Commit that was pipelined behind it is never left out of that Commit', async () => {
    const id = nextId++
    const tx = arbiter.coordinator.begin({})
    const insert = arbiter.coordinator.execute(tx.gtrid, 'pg', PG_INSERT, [
      { kind: 'int', value: BigInt(id) },
      { kind: 'int', value: 1n },
    ])
    const commit = arbiter.coordinator.commit(tx.gtrid, [], 'applied')
    const [inserted, committed] = await Promise.allSettled([insert, commit])
    const landed = await rowIn('pg', id)
    // Either both happened, or neither: never "committed" without the statement.
    if (committed.status === 'fulfilled') expect(inserted.status === 'fulfilled' && landed).toBe(true)
    else expect(landed).toBe(false)
  })

  describe('on one pooled session per resource', () => {
    let tm: Awaited<ReturnType<typeof startTestArbiter>>
    let tmc: ReturnType<typeof tmClient>
    beforeAll(async () => {
      tm = await startTestArbiter([
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 1 },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl, poolSize: 1 },
      ])
      tmc = tmClient(tm.address)
    })
    afterAll(async () => {
      tmc?.close()
      await tm?.stopAndClean()
    })

    async function commitOne(resource: string, sql: string, params: { intValue: string }[] = []): Promise<unknown[][]> {
      const { gtrid } = await tmc.tm.Begin({})
      const { result } = await tmc.tm.Execute({ gtrid, statement: { resource, sql, params } })
      await tmc.tm.Commit({ gtrid })
      return (result?.rows ?? []).map((r) => r.values.map((v) => v.stringValue ?? v.intValue ?? (v.nullValue !== undefined ? null : v)))
    }

    it('MySQL: nothing a transaction left on the session reaches the next one (user variables, GET_LOCK); temporary tables are refused', async () => {
      await commitOne('maria', "SELECT @leak := 'secret'")
      await commitOne('maria', "SELECT GET_LOCK('arbiter-review-lock', 0)")
      expect(await commitOne('maria', 'SELECT @leak')).toEqual([[null]])
      expect(await commitOne('maria', "SELECT IS_FREE_LOCK('arbiter-review-lock')")).toEqual([['1']])
      const { gtrid } = await tmc.tm.Begin({})
      const refused = await grpcError(tmc.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'CREATE TEMPORARY TABLE accounts (id int)' } }))
      expect(refused.code).toBe(status.INVALID_ARGUMENT)
    })

    it('PostgreSQL: a session-level setting made through set_config() does not reach the next transaction', async () => {
      await commitOne('pg', "SELECT set_config('default_transaction_read_only', 'on', false)")
      const id = nextId++
      await commitOne('pg', PG_INSERT, [int(id), int(1)])
      expect(await rowIn('pg', id)).toBe(true)
    })
  })
})

describe('found by review: a role switched by a function call', () => {
  it('PostgreSQL: a branch whose statement switched roles (set_config) is still prepared as the TM\'s login role, so the TM can finish it', async () => {
    const tag = Math.random().toString(36).slice(2, 8)
    const [login, other] = [`arb_tm_${tag}`, `arb_other_${tag}`]
    await dbs.pgQuery(`CREATE ROLE ${login} LOGIN`)
    await dbs.pgQuery(`CREATE ROLE ${other}`)
    await dbs.pgQuery(`GRANT ${other} TO ${login}`)
    await dbs.pgQuery(`GRANT ALL ON accounts TO ${login}, ${other}`)
    const url = new URL(dbs.pgUrl)
    url.username = login
    url.password = ''
    const tm = await startTestArbiter([
      { name: 'pg', kind: 'postgres', url: url.toString() },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ])
    const tmc = tmClient(tm.address)
    try {
      const id = nextId++
      const { gtrid } = await tmc.tm.Begin({})
      await tmc.tm.Execute({ gtrid, statement: { resource: 'pg', sql: `SELECT set_config('role', '${other}', true)` } })
      await tmc.tm.Execute({ gtrid, statement: { resource: 'pg', sql: PG_INSERT, params: [int(id), int(1)] } })
      await tmc.tm.Execute({ gtrid, statement: { resource: 'maria', sql: MY_INSERT, params: [int(id), int(1)] } })
      const { transaction } = await tmc.tm.Commit({ gtrid })
      expect(transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect(await rowIn('pg', id)).toBe(true)
      expect(await rowIn('maria', id)).toBe(true)
    } finally {
      tmc.close()
      await tm.stopAndClean()
    }
  })
})
