// What only PostgresAdapter and postgresLocalBranch do, against a real
// PostgreSQL. The behaviour both SQL adapters share is in
// sql-adapter-conformance.test.ts.
import { describe, expect, it } from 'vitest'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import { postgresLocalBranch } from '../../../adapters/postgres/postgres-local-branch.js'
import { xidToPgGid } from '../../../adapters/xid/xid.js'
import { createDatabase, startPostgres } from '../../harness/index.js'
import { expectAdapterError, expectKilledServerRetryable } from './adapter-test-helpers.js'
import { pgClient, postgres, useSqlAdapter } from './sql-dialects.js'

const xid = postgres.newXid

describe('PostgresAdapter (shared server)', () => {
  const t = useSqlAdapter(postgres, 'pgspecific')

  it('a branch the TM believes wrote is prepared without the read-only probe, even when it wrote nothing; it still commits', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    // An UPDATE that matches no row: "likely wrote" by its kind, wrote nothing in fact.
    await s.execute('UPDATE acct SET balance = 1 WHERE id = -1', [])
    expect(await s.prepare({ likelyWrote: true })).toEqual({ vote: 'prepared' })
    expect((await t.adapter.recover()).some((b) => b.rawId === xidToPgGid(x))).toBe(true)
    expect(await s.commit()).toBe('done')
    await s.release()
    expect((await t.adapter.recover()).some((b) => b.rawId === xidToPgGid(x))).toBe(false)
    // Without the hint the probe runs and the same branch leaves read-only.
    const s2 = await t.adapter.begin(xid())
    await s2.execute('UPDATE acct SET balance = 1 WHERE id = -1', [])
    expect(await s2.prepare()).toEqual({ vote: 'read-only' })
    await s2.release()
  })

  it('a serialization failure before prepare votes no with the server reason', async () => {
    await t.admin.query('UPDATE acct SET balance = 100 WHERE id IN (6, 7)')
    const a = await t.adapter.begin(xid())
    const b = await t.adapter.begin(xid())
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

  it('a failed statement recovered by a savepoint still votes no', async () => {
    const s2 = await t.adapter.begin(xid())
    await s2.execute('SAVEPOINT sp', [])
    await expectAdapterError(s2.execute('SELECT 1/0', []), 'vote-no')
    await s2.execute('ROLLBACK TO SAVEPOINT sp', [])
    expect((await s2.prepare()).vote).toBe('no')
    await s2.release()
  })

  it('a statement that ends the block is rejected as fatal', async () => {
    const s = await t.adapter.begin(xid())
    await expectAdapterError(s.execute('COMMIT', []), 'fatal')
    expect((await s.prepare()).vote).toBe('no')
    await s.release()
  })

  it('local branch prepare: one round trip; a branch that may only read is probed in it and leaves read-only when it did; a taken gid votes no', async () => {
    const c = await pgClient(t.url)
    const sent: string[] = []
    const query = c.query.bind(c) as (config: unknown) => Promise<unknown>
    ;(c as unknown as { query: (config: unknown) => Promise<unknown> }).query = (config) => {
      sent.push(typeof config === 'string' ? config : (config as { text: string }).text)
      return query(config)
    }
    const preparedNow = async (x: ReturnType<typeof xid>): Promise<boolean> =>
      (await t.adapter.recover()).some((b) => b.rawId === xidToPgGid(x))
    const mayOnlyRead = { mayOnlyRead: true }
    try {
      // Not marked: PREPARE TRANSACTION whatever the branch did, behind the check that the block is still the
      // branch's (escaped-local-branch.test.ts), in the same query.
      const writer = xid()
      await postgresLocalBranch.start(c, writer, 'pg1')
      await c.query('UPDATE acct SET balance = 41 WHERE id = 15')
      sent.length = 0
      expect(await postgresLocalBranch.prepare(c, writer, 'pg1')).toEqual({ vote: 'prepared' })
      expect(sent).toEqual([expect.stringMatching(/^SELECT CASE WHEN \(current_setting\('arbiter\.branch', true\) IS NOT DISTINCT FROM .* OR \(extract\(epoch from transaction_timestamp\(\)\) \* 1000000\)::bigint = \d+\) THEN .*; PREPARE TRANSACTION /)])
      expect(await preparedNow(writer)).toBe(true)
      expect(await postgresLocalBranch.commit(c, writer, 'pg1')).toBe('done')
      expect(await t.balance(15)).toBe(41)

      const unmarkedReader = xid()
      await postgresLocalBranch.start(c, unmarkedReader, 'pg1')
      await c.query('SELECT * FROM acct WHERE id = 15')
      expect(await postgresLocalBranch.prepare(c, unmarkedReader, 'pg1')).toEqual({ vote: 'prepared' })
      expect(await postgresLocalBranch.commit(c, unmarkedReader, 'pg1')).toBe('done')

      // Marked: the probe rides with the PREPARE (one query); a writer is prepared, a reader leaves read-only.
      const markedWriter = xid()
      await postgresLocalBranch.start(c, markedWriter, 'pg1', mayOnlyRead)
      await c.query('UPDATE acct SET balance = 40 WHERE id = 15')
      sent.length = 0
      expect(await postgresLocalBranch.prepare(c, markedWriter, 'pg1', mayOnlyRead)).toEqual({ vote: 'prepared' })
      expect(sent).toEqual([expect.stringMatching(/^SELECT .*; PREPARE TRANSACTION /)])
      expect(await postgresLocalBranch.commit(c, markedWriter, 'pg1')).toBe('done')
      expect(await t.balance(15)).toBe(40)

      const reader = xid()
      await postgresLocalBranch.start(c, reader, 'pg1', mayOnlyRead)
      await c.query('SELECT * FROM acct WHERE id = 15')
      expect(await postgresLocalBranch.prepare(c, reader, 'pg1', mayOnlyRead)).toEqual({ vote: 'read-only' })
      expect(await preparedNow(reader)).toBe(false)
      expect(c.getTransactionStatus()).toBe('I')

      // PREPARE fails (the gid is taken by another prepared transaction): vote no, the block is gone, the write undone; both ways.
      const other = await t.adapter.begin(writer)
      await other.execute('SELECT 1', [])
      expect((await other.prepare({ likelyWrote: true })).vote).toBe('prepared')
      for (const options of [undefined, mayOnlyRead]) {
        await postgresLocalBranch.start(c, writer, 'pg1', options)
        await c.query('UPDATE acct SET balance = 42 WHERE id = 15')
        const vote = await postgresLocalBranch.prepare(c, writer, 'pg1', options)
        expect(vote.vote).toBe('no')
        expect(c.getTransactionStatus()).toBe('I')
        expect(await t.balance(15)).toBe(40)
      }
      expect(await other.commit()).toBe('done')
      await other.release()
    } finally {
      await c.end()
    }
  })

  it('local branch on a plain pg Client: a failed statement votes no and leaves the client idle', async () => {
    const c = await pgClient(t.url)
    try {
      const z = xid()
      await postgresLocalBranch.start(c, z, 'pg1')
      await c.query('SELECT 1/0').catch(() => undefined)
      expect((await postgresLocalBranch.prepare(c, z, 'pg1')).vote).toBe('no')
      expect(c.getTransactionStatus()).toBe('I')
    } finally {
      await c.end()
    }
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
      const setup = await pgClient(url)
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

      await expectKilledServerRetryable(srv, a, x, xid())

      await srv.restart()
      expect((await a.recover()).map((b) => b.rawId)).toContain(xidToPgGid(x))
      const c = await pgClient(url)
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
