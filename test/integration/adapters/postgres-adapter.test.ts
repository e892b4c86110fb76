// PostgresAdapter and postgresLocalBranch against a real PostgreSQL.
import net from 'node:net'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import { postgresLocalBranch } from '../../../adapters/postgres/postgres-local-branch.js'
import { AdapterError } from '../../../adapters/types.js'
import type { SqlValue, Xid } from '../../../adapters/types.js'
import { makeXid, newGtrid, xidEquals, xidToPgGid } from '../../../adapters/xid/xid.js'
import { createDatabase, sharedServerUrls, startPostgres } from '../../harness/index.js'

const int = (v: number): SqlValue => ({ kind: 'int', value: BigInt(v) })
const str = (v: string): SqlValue => ({ kind: 'string', value: v })
const xid = (): Xid => makeXid(newGtrid('pgtest'), 'b1')

async function client(url: string): Promise<pg.Client> {
  const c = new pg.Client({ connectionString: url })
  c.on('error', () => undefined)
  await c.connect()
  return c
}

async function expectAdapterError(p: Promise<unknown>, cls: string): Promise<AdapterError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(AdapterError)
  expect((err as AdapterError).errorClass).toBe(cls)
  return err as AdapterError
}

describe('PostgresAdapter (shared server)', () => {
  let url: string
  let adapter: PostgresAdapter
  let admin: pg.Client

  beforeAll(async () => {
    url = await createDatabase(sharedServerUrls().pgUrl, 'pgadapter')
    admin = await client(url)
    await admin.query('CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL)')
    await admin.query('INSERT INTO acct SELECT g, 100 FROM generate_series(1, 20) g')
    adapter = new PostgresAdapter({ name: 'pg1', kind: 'postgres', url, poolSize: 4 })
    await adapter.init()
  })
  afterAll(async () => {
    await adapter?.close()
    await admin?.end()
  })

  const balance = async (id: number): Promise<number> =>
    Number((await admin.query('SELECT balance FROM acct WHERE id = $1', [id])).rows[0].balance)

  it('prepares, releases the session, commits from another session: writes visible', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    expect(Number(s.serverSessionId)).toBeGreaterThan(0)
    const r = await s.execute('UPDATE acct SET balance = balance + $1 WHERE id = $2', [int(5), int(1)])
    expect(r.affectedRows).toBe(1)
    expect(await s.isReadOnly()).toBe(false)
    expect(await s.prepare()).toEqual({ vote: 'prepared' })
    await s.release()
    expect(await balance(1)).toBe(100)
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(true)
    expect(await adapter.commit(x)).toBe('done')
    expect(await balance(1)).toBe(105)
    expect(await adapter.commit(x)).toBe('already-done')
    expect(await adapter.rollback(x)).toBe('already-done')
  })

  it('prepares and rolls back from another session: nothing visible', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 0 WHERE id = $1', [int(2)])
    expect((await s.prepare()).vote).toBe('prepared')
    await s.release()
    expect(await adapter.rollback(x)).toBe('done')
    expect(await balance(2)).toBe(100)
    expect(await adapter.rollback(x)).toBe('already-done')
  })

  it('commit/rollback of an unknown XID is already-done', async () => {
    expect(await adapter.commit(xid())).toBe('already-done')
    expect(await adapter.rollback(xid())).toBe('already-done')
  })

  it('phase 2 on the branch session itself', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 7 WHERE id = 3', [])
    expect((await s.prepare()).vote).toBe('prepared')
    expect(await s.commit()).toBe('done')
    await s.release()
    expect(await balance(3)).toBe(7)
  })

  it('returns typed values', async () => {
    const s = await adapter.begin(xid())
    const r = await s.execute(
      "SELECT 9007199254740993::int8 AS i, 1.5::float8 AS d, 12.50::numeric AS n, true AS b, 'x'::text AS t, '\\x00ff'::bytea AS y, " +
        "'2024-01-02T03:04:05.678Z'::timestamptz AS ts, '{\"a\":1}'::jsonb AS j, NULL::int AS z, $1::int8 AS p, $2::text AS q",
      [int(42), str('hé')],
    )
    expect(r.columns.map((c) => c.type)).toEqual(['int8', 'float8', 'numeric', 'bool', 'text', 'bytea', 'timestamptz', 'jsonb', 'int4', 'int8', 'text'])
    const [row] = r.rows
    expect(row).toEqual([
      { kind: 'int', value: 9007199254740993n },
      { kind: 'double', value: 1.5 },
      { kind: 'decimal', value: '12.50' },
      { kind: 'bool', value: true },
      { kind: 'string', value: 'x' },
      { kind: 'bytes', value: Buffer.from([0, 255]) },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.678Z') },
      { kind: 'json', value: '{"a": 1}' },
      { kind: 'null' },
      { kind: 'int', value: 42n },
      { kind: 'string', value: 'hé' },
    ])
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    await s.release()
  })

  it('recover lists only Arbiter branches; a foreign prepared transaction is listed by listForeign and never touched', async () => {
    const foreign = await client(url)
    await foreign.query('BEGIN')
    await foreign.query('UPDATE acct SET balance = balance + 1 WHERE id = 4')
    await foreign.query("PREPARE TRANSACTION 'foreign-tx-1'")
    await foreign.end()
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 5', [])
    await s.prepare()
    await s.release()
    const mine = await adapter.recover()
    expect(mine.map((b) => b.rawId)).toContain(xidToPgGid(x))
    expect(mine.map((b) => b.rawId)).not.toContain('foreign-tx-1')
    expect(mine.every((b) => b.preparedAt instanceof Date)).toBe(true)
    expect((await adapter.listForeign()).map((f) => f.rawId)).toEqual(['foreign-tx-1'])
    const h = await adapter.health()
    expect(h.reachable).toBe(true)
    expect(h.preparedBranches).toBe(mine.length)
    expect(h.preparedHeadroom).toBeLessThanOrEqual(98)
    for (const b of mine) await adapter.rollback(b.xid)
    expect((await admin.query("SELECT gid FROM pg_prepared_xacts WHERE gid = 'foreign-tx-1'")).rows).toHaveLength(1)
    await admin.query("ROLLBACK PREPARED 'foreign-tx-1'")
  })

  it('a serialization failure before prepare votes no with the server reason', async () => {
    await admin.query('UPDATE acct SET balance = 100 WHERE id IN (6, 7)')
    const a = await adapter.begin(xid())
    const b = await adapter.begin(xid())
    await a.execute('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', [])
    await b.execute('SET TRANSACTION ISOLATION LEVEL SERIALIZABLE', [])
    await a.execute('SELECT sum(balance) FROM acct WHERE id IN (6, 7)', [])
    await b.execute('SELECT sum(balance) FROM acct WHERE id IN (6, 7)', [])
    await a.execute('UPDATE acct SET balance = balance - 10 WHERE id = 6', [])
    await b.execute('UPDATE acct SET balance = balance - 10 WHERE id = 7', [])
    const va = await a.prepare()
    const vb = await b.prepare()
    expect(va.vote).toBe('prepared')
    expect(vb.vote).toBe('no')
    if (vb.vote === 'no') {
      expect(vb.reason).toMatch(/serializ/i)
      expect(vb.error?.serverCode).toBe('40001')
    }
    await a.rollback()
    await a.release()
    await b.release()
  })

  it('a deadlock before prepare: the victim votes no with 40P01', async () => {
    const a = await adapter.begin(xid())
    const b = await adapter.begin(xid())
    await a.execute('UPDATE acct SET balance = balance + 1 WHERE id = 8', [])
    await b.execute('UPDATE acct SET balance = balance + 1 WHERE id = 9', [])
    const pa = a.execute('UPDATE acct SET balance = balance + 1 WHERE id = 9', []).then(
      () => undefined,
      (e: unknown) => e,
    )
    await new Promise((r) => setTimeout(r, 200))
    const eb = await b.execute('UPDATE acct SET balance = balance + 1 WHERE id = 8', []).then(
      () => undefined,
      (e: unknown) => e,
    )
    const ea = await pa
    const victimErr = (ea ?? eb) as AdapterError
    expect(victimErr).toBeInstanceOf(AdapterError)
    expect(victimErr.serverCode).toBe('40P01')
    expect(victimErr.errorClass).toBe('vote-no')
    const [victim, winner] = ea === undefined ? [b, a] : [a, b]
    const v = await victim.prepare()
    expect(v.vote).toBe('no')
    if (v.vote === 'no') expect(v.reason).toMatch(/deadlock/i)
    expect((await winner.prepare()).vote).toBe('prepared')
    expect(await winner.rollback()).toBe('done')
    await a.release()
    await b.release()
  })

  it('a branch whose statement failed (error caught) votes no, never yes', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 10', [])
    await expectAdapterError(s.execute('INSERT INTO acct VALUES (10, 1)', []), 'vote-no')
    const v = await s.prepare()
    expect(v.vote).toBe('no')
    if (v.vote === 'no') expect(v.reason).toMatch(/duplicate key/)
    await s.release()
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)
    // recovered by a savepoint, still no
    const s2 = await adapter.begin(xid())
    await s2.execute('SAVEPOINT sp', [])
    await expectAdapterError(s2.execute('SELECT 1/0', []), 'vote-no')
    await s2.execute('ROLLBACK TO SAVEPOINT sp', [])
    expect((await s2.prepare()).vote).toBe('no')
    await s2.release()
  })

  it('a statement that ends the block is rejected as fatal', async () => {
    const s = await adapter.begin(xid())
    await expectAdapterError(s.execute('COMMIT', []), 'fatal')
    expect((await s.prepare()).vote).toBe('no')
    await s.release()
  })

  it('a read-only branch votes read-only and leaves nothing prepared', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('SELECT * FROM acct WHERE id = 11', [])
    expect(await s.isReadOnly()).toBe(true)
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    expect(await s.commit()).toBe('already-done')
    await s.release()
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)
  })

  it('one-phase commit', async () => {
    const s = await adapter.begin(xid())
    await s.execute('UPDATE acct SET balance = 55 WHERE id = 12', [])
    await s.commitOnePhase()
    await s.release()
    expect(await balance(12)).toBe(55)
    const s2 = await adapter.begin(xid())
    await expectAdapterError(s2.execute('INSERT INTO acct VALUES (12, 1)', []), 'vote-no')
    await expectAdapterError(s2.commitOnePhase(), 'vote-no')
    await s2.release()
  })

  it('local branch on a plain pg Client: start, write, prepare, commit; and prepare + rollback', async () => {
    const c = await client(url)
    try {
      const x = xid()
      await postgresLocalBranch.start(c, x, 'pg1')
      await c.query('UPDATE acct SET balance = 300 WHERE id = 13')
      expect(await postgresLocalBranch.prepare(c, x, 'pg1')).toEqual({ vote: 'prepared' })
      expect(await balance(13)).toBe(100)
      expect(await postgresLocalBranch.commit(c, x, 'pg1')).toBe('done')
      expect(await balance(13)).toBe(300)
      expect(await postgresLocalBranch.commit(c, x, 'pg1')).toBe('already-done')

      const y = xid()
      await postgresLocalBranch.start(c, y, 'pg1')
      await c.query('UPDATE acct SET balance = 0 WHERE id = 14')
      expect((await postgresLocalBranch.prepare(c, y, 'pg1')).vote).toBe('prepared')
      expect(await postgresLocalBranch.rollback(c, y, 'pg1')).toBe('done')
      expect(await balance(14)).toBe(100)

      const z = xid()
      await postgresLocalBranch.start(c, z, 'pg1')
      await c.query('SELECT 1/0').catch(() => undefined)
      expect((await postgresLocalBranch.prepare(c, z, 'pg1')).vote).toBe('no')
      expect(c.getTransactionStatus()).toBe('I')
    } finally {
      await c.end()
    }
  })

  it('a closed port gives a retryable error within a bounded time', async () => {
    const srv = net.createServer()
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const port = (srv.address() as net.AddressInfo).port
    await new Promise<void>((r) => srv.close(() => r()))
    const dead = new PostgresAdapter({ name: 'dead', kind: 'postgres', url: `postgres://postgres@127.0.0.1:${port}/x`, connectTimeoutMs: 2000 })
    const t0 = Date.now()
    await expectAdapterError(dead.init(), 'retryable')
    await expectAdapterError(dead.commit(xid()), 'retryable')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect((await dead.health()).reachable).toBe(false)
    await dead.close()
  })
})

describe('PostgresAdapter (dedicated servers)', () => {
  it('init fails with a clear message when max_prepared_transactions = 0', async () => {
    const srv = await startPostgres({ maxPreparedTransactions: 0 })
    try {
      const a = new PostgresAdapter({ name: 'nopx', kind: 'postgres', url: srv.url })
      const e = await expectAdapterError(a.init(), 'fatal')
      expect(e.message).toMatch(/max_prepared_transactions is 0/)
      expect(e.message).toMatch(/max_prepared_transactions = 100/)
      expect(e.message).toMatch(/restart/)
      await a.close()
    } finally {
      await srv.destroy()
    }
  })

  it('a prepared branch survives kill + restart, keeps its locks, and commits afterwards; a down server is retryable', async () => {
    const srv = await startPostgres()
    try {
      const url = await createDatabase(srv.url, 'pgcrash')
      const setup = await client(url)
      await setup.query('CREATE TABLE t (id int PRIMARY KEY, v int)')
      await setup.query('INSERT INTO t VALUES (1, 0)')
      await setup.end()
      const a = new PostgresAdapter({ name: 'crash', kind: 'postgres', url, connectTimeoutMs: 2000 })
      await a.init()
      const x = xid()
      const s = await a.begin(x)
      await s.execute('UPDATE t SET v = 42 WHERE id = 1', [])
      expect((await s.prepare()).vote).toBe('prepared')
      await s.release()

      await srv.kill()
      const t0 = Date.now()
      await expectAdapterError(a.commit(x), 'retryable')
      await expectAdapterError(a.begin(xid()), 'retryable')
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect((await a.health()).reachable).toBe(false)

      await srv.restart()
      expect((await a.recover()).map((b) => b.rawId)).toContain(xidToPgGid(x))
      const c = await client(url)
      await c.query("SET lock_timeout = '200ms'")
      await expect(c.query('SELECT * FROM t WHERE id = 1 FOR UPDATE')).rejects.toMatchObject({ code: '55P03' })
      expect((await c.query('SELECT v FROM t')).rows[0].v).toBe(0)
      // the adapter's pool may hold dead clients from before the crash: retry once
      const out = await a.commit(x).catch(() => a.commit(x))
      expect(out).toBe('done')
      expect((await c.query('SELECT v FROM t')).rows[0].v).toBe(42)
      await c.end()
      await a.close()
    } finally {
      await srv.destroy()
    }
  })
})
