// What only MysqlAdapter and mysqlLocalBranch do on MariaDB: a prepared XA
// branch stays attached to its session while that lives. The behaviour both
// SQL adapters share is in sql-adapter-conformance.test.ts.
import { beforeAll, describe, expect, it } from 'vitest'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import { mysqlLocalBranch } from '../../../adapters/mysql/mysql-local-branch.js'
import { xidEquals } from '../../../adapters/xid/xid.js'
import { createDatabase, startMariadb } from '../../harness/index.js'
import { eventually, expectAdapterError, expectKilledServerRetryable } from './adapter-test-helpers.js'
import { mariadb, mysqlConn, useSqlAdapter } from './sql-dialects.js'

const xid = mariadb.newXid

describe('MysqlAdapter on MariaDB (shared server)', () => {
  const t = useSqlAdapter(mariadb, 'myspecific')
  beforeAll(() => {
    expect(t.adapter.server?.mariadb).toBe(true)
  })

  it('on one pooled connection, each branch is voted by what it did, whatever the branch before it did (the baseline carried over)', async () => {
    const one = new MysqlAdapter({ name: 'my1conn', kind: 'mysql', url: t.url, poolSize: 1 })
    await one.init()
    try {
      const sessionIds = new Set<string>()
      const step = async (sql: string, hint: boolean): Promise<string> => {
        const s = await one.begin(xid())
        sessionIds.add(s.serverSessionId)
        await s.execute(sql, [])
        const vote = (await s.prepare({ likelyWrote: hint })).vote
        if (vote === 'prepared') expect(await s.commit()).toBe('done')
        await s.release()
        return vote
      }
      expect(await step('UPDATE acct SET balance = balance + 1 WHERE id = 4', true)).toBe('prepared')
      expect(await step('SELECT * FROM acct WHERE id = 4 FOR UPDATE', false)).toBe('read-only')
      expect(await step('SELECT * FROM acct WHERE id = 4', false)).toBe('read-only')
      expect(await step('UPDATE acct SET balance = balance + 1 WHERE id = 4', true)).toBe('prepared')
      // Without the hint the count decides: an UPDATE that matched nothing wrote nothing.
      expect(await step('UPDATE acct SET balance = balance + 1 WHERE id = -1', false)).toBe('read-only')
      // With it the count is skipped: the branch is prepared (and commits) although it wrote nothing.
      expect(await step('UPDATE acct SET balance = balance + 1 WHERE id = -1', true)).toBe('prepared')
      expect(await step('SELECT * FROM acct WHERE id = 4', false)).toBe('read-only')
      expect(await step('INSERT INTO acct VALUES (9004, 1)', true)).toBe('prepared')
      expect(await step('DELETE FROM acct WHERE id = 9004', true)).toBe('prepared')
      expect(sessionIds.size).toBe(1)
    } finally {
      await one.close()
    }
  })

  it('a branch that may only read takes its baseline from the last count on the same pooled connection: no SHOW STATUS at its begin', async () => {
    const one = new MysqlAdapter({ name: 'my1base', kind: 'mysql', url: t.url, poolSize: 1 })
    await one.init()
    try {
      const branch = async (): Promise<number> => {
        const s = await one.begin(xid())
        const result = await s.execute("SHOW SESSION STATUS LIKE 'Com_show_status'", [])
        expect((await s.prepare()).vote).toBe('read-only')
        await s.release()
        return Number(result.rows[0]![1])
      }
      const first = await branch()
      // In between: the first branch's count at prepare and the second's own SHOW; no baseline read at its begin.
      expect(await branch()).toBe(first + 2)
    } finally {
      await one.close()
    }
  })

  it('a branch that starts with a write and is prepared as a writer costs no SHOW STATUS; one that may only read costs one', async () => {
    const one = new MysqlAdapter({ name: 'my1show', kind: 'mysql', url: t.url, poolSize: 1 })
    await one.init()
    try {
      // Com_show_status counts this connection's SHOW STATUS statements, the reading one included.
      const branch = async (firstStatementWrites: boolean): Promise<number> => {
        const s = await one.begin(xid(), { firstStatementWrites })
        await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 5', [])
        const result = await s.execute("SHOW SESSION STATUS LIKE 'Com_show_status'", [])
        expect((await s.prepare({ likelyWrote: true })).vote).toBe('prepared')
        expect(await s.commit()).toBe('done')
        await s.release()
        return Number(result.rows[0]![1])
      }
      const first = await branch(true)
      expect(await branch(true)).toBe(first + 1) // only the reading SHOW itself
      expect(await branch(false)).toBe(first + 3) // + the baseline at begin
    } finally {
      await one.close()
    }
  })

  it('while the preparing session lives, commit from another session is retryable, never done; it succeeds once that session ends', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 77 WHERE id = 3', [])
    expect((await s.prepare()).vote).toBe('prepared')
    const e = await expectAdapterError(t.adapter.commit(x), 'retryable')
    expect(e.serverCode).toBe('1397')
    expect(e.message).toMatch(/attached to another live session/)
    await expectAdapterError(t.adapter.rollback(x), 'retryable')
    expect((await t.adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(true)
    await s.release()
    expect(await eventually(() => t.adapter.commit(x))).toBe('done')
    expect(await t.balance(3)).toBe(77)
  })

  it('a read-only branch prepared by hand gives 1402 after detach, handled', async () => {
    // A local branch whose baseline is unknown is prepared read-only; after its
    // connection ends MariaDB discards it: rollback → already-done, commit → the truth.
    for (const action of ['rollback', 'commit'] as const) {
      const y = xid()
      const c = await mysqlConn(t.url)
      await c.query(`XA START X'${y.gtrid.toString('hex')}',X'${y.bqual.toString('hex')}',${y.formatId}`)
      await c.query('SELECT 1')
      expect((await mysqlLocalBranch.prepare(c, y, 'my1')).vote).toBe('prepared')
      await c.end()
      await new Promise((r) => setTimeout(r, 200))
      if (action === 'rollback') expect(await t.adapter.rollback(y)).toBe('already-done')
      else expect((await expectAdapterError(t.adapter.commit(y), 'fatal')).serverCode).toBe('1402')
      expect(await t.adapter.rollback(y)).toBe('already-done')
    }
  })

  it('local branches that may only read, one after another on one connection: a writer always votes prepared, a reader read-only, whatever the application did on the connection in between', async () => {
    const c = await mysqlConn(t.url)
    try {
      const branch = async (sql: string): Promise<string> => {
        const x = xid()
        await mysqlLocalBranch.start(c, x, 'my1', { mayOnlyRead: true })
        await c.query(sql)
        const vote = (await mysqlLocalBranch.prepare(c, x, 'my1')).vote
        if (vote === 'prepared') expect(await mysqlLocalBranch.commit(c, x, 'my1')).toBe('done')
        return vote
      }
      expect(await branch('UPDATE acct SET balance = balance + 1 WHERE id = 14')).toBe('prepared')
      expect(await branch('SELECT * FROM acct WHERE id = 14')).toBe('read-only')
      expect(await branch('UPDATE acct SET balance = balance + 1 WHERE id = 14')).toBe('prepared')
      // A write outside any branch changes nothing: each branch reads its own baseline.
      await c.query('UPDATE acct SET balance = balance + 1 WHERE id = 14')
      expect(await branch('SELECT * FROM acct WHERE id = 14')).toBe('read-only')
      expect(await branch('INSERT INTO acct VALUES (9014, 1)')).toBe('prepared')
      // FLUSH STATUS zeroes the session's counters: a count carried over from the
      // last branch would make this one-row write look read-only (committed at once).
      await c.query('FLUSH STATUS')
      expect(await branch('UPDATE acct SET balance = balance + 1 WHERE id = 14')).toBe('prepared')
      await c.query('FLUSH STATUS')
      expect(await branch('UPDATE acct SET balance = balance + 1 WHERE id = 14')).toBe('prepared')
    } finally {
      await c.end()
    }
  })

  it('local branch on a mysql2 promise connection: while it lives the prepared branch is attached, commit by XID is retryable', async () => {
    const c = await mysqlConn(t.url)
    try {
      const x = xid()
      await mysqlLocalBranch.start(c, x, 'my1')
      await c.query('UPDATE acct SET balance = 300 WHERE id = 13')
      expect(await mysqlLocalBranch.prepare(c, x, 'my1')).toEqual({ vote: 'prepared' })
      expect(await t.balance(13)).toBe(100)
      await expectAdapterError(t.adapter.commit(x), 'retryable') // attached to c
      expect(await mysqlLocalBranch.commit(c, x, 'my1')).toBe('done')
      expect(await t.balance(13)).toBe(300)
    } finally {
      await c.end()
    }
  })

  it('local branch on a mysql2 promise connection: no writes votes read-only when it may only read', async () => {
    const c = await mysqlConn(t.url)
    try {
      const z = xid()
      await mysqlLocalBranch.start(c, z, 'my1', { mayOnlyRead: true })
      await c.query('SELECT 1')
      expect(await mysqlLocalBranch.prepare(c, z, 'my1')).toEqual({ vote: 'read-only' })
    } finally {
      await c.end()
    }
  })

  it('the XA steps of a local branch skip the promise layer (no stack captured per statement on a traced pool); a connection without the callback API under it is served through its query()', async () => {
    const c = await mysqlConn(t.url)
    try {
      const viaPromise: string[] = []
      const promiseQuery = c.query.bind(c) as (options: { sql: string }) => Promise<[unknown, unknown]>
      const watched = {
        query: (options: { sql: string }) => {
          viaPromise.push(options.sql.split(' ').slice(0, 2).join(' '))
          return promiseQuery(options)
        },
      }
      const x = xid()
      // The real mysql2/promise connection: the XA steps go to c.connection, none to c.query.
      const spied = Object.assign(Object.create(c) as typeof c, watched, { connection: (c as unknown as { connection: unknown }).connection })
      await mysqlLocalBranch.start(spied, x, 'my1')
      await c.query('UPDATE acct SET balance = balance + 5 WHERE id = 17')
      expect(await mysqlLocalBranch.prepare(spied, x, 'my1')).toEqual({ vote: 'prepared' })
      expect(await mysqlLocalBranch.commit(spied, x, 'my1')).toBe('done')
      expect(viaPromise).toEqual([])
      // A shape with no callback-API connection under it: every step through query().
      const y = xid()
      await mysqlLocalBranch.start(watched, y, 'my1')
      await c.query('UPDATE acct SET balance = balance + 5 WHERE id = 17')
      expect(await mysqlLocalBranch.prepare(watched, y, 'my1')).toEqual({ vote: 'prepared' })
      expect(await mysqlLocalBranch.commit(watched, y, 'my1')).toBe('done')
      expect(viaPromise).toEqual(['XA START', 'XA END', 'XA PREPARE', 'XA COMMIT'])
      expect(await t.balance(17)).toBe(110)
    } finally {
      await c.end()
    }
  })

  it('a local branch not marked mayOnlyRead is prepared with no SHOW STATUS, whatever it did, and commits', async () => {
    const c = await mysqlConn(t.url)
    const shows = async (): Promise<number> => {
      const [rows] = await c.query("SHOW SESSION STATUS LIKE 'Com_show_status'")
      return Number((rows as { Value: string }[])[0]!.Value)
    }
    try {
      for (const sql of ['UPDATE acct SET balance = balance + 1 WHERE id = 16', 'SELECT * FROM acct WHERE id = 16']) {
        const before = await shows()
        const x = xid()
        await mysqlLocalBranch.start(c, x, 'my1')
        await c.query(sql)
        expect(await mysqlLocalBranch.prepare(c, x, 'my1')).toEqual({ vote: 'prepared' })
        expect(await mysqlLocalBranch.commit(c, x, 'my1')).toBe('done')
        expect(await shows()).toBe(before + 1) // only the counting one above
      }
      expect(await t.balance(16)).toBe(101)
    } finally {
      await c.end()
    }
  })
})

describe('MysqlAdapter on MariaDB (dedicated server)', () => {
  it('a prepared branch survives kill + restart, keeps its locks, and commits afterwards; a down server is retryable', async () => {
    const srv = await startMariadb()
    try {
      const url = await createDatabase(srv.url, 'mycrash')
      const setup = await mysqlConn(url)
      await setup.query('CREATE TABLE t (id int PRIMARY KEY, v int) ENGINE=InnoDB')
      await setup.query('INSERT INTO t VALUES (1, 0)')
      await setup.end()
      const a = new MysqlAdapter({ name: 'crash', kind: 'mysql', url, connectTimeoutMs: 2000 })
      await a.init()
      const x = xid()
      const s = await a.begin(x)
      await s.execute('UPDATE t SET v = 42 WHERE id = 1', [])
      expect((await s.prepare()).vote).toBe('prepared')
      // the session stays open (attached) when the server dies

      await expectKilledServerRetryable(srv, a, x, xid())
      await s.release()

      await srv.restart()
      expect((await eventually(() => a.recover())).some((b) => xidEquals(b.xid, x))).toBe(true)
      const c = await mysqlConn(url)
      await c.query('SET SESSION innodb_lock_wait_timeout = 1')
      await expect(c.query('UPDATE t SET v = 1 WHERE id = 1')).rejects.toMatchObject({ errno: 1205 })
      expect(await eventually(() => a.commit(x))).toBe('done')
      const [rows] = (await c.query('SELECT v FROM t')) as [{ v: number }[], unknown]
      expect(rows[0]!.v).toBe(42)
      await c.end()
      await a.close()
    } finally {
      await srv.destroy()
    }
  })
})
