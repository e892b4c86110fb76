// MysqlAdapter and mysqlLocalBranch against a real MariaDB.
import net from 'node:net'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import { mysqlLocalBranch } from '../../../adapters/mysql/mysql-local-branch.js'
import { AdapterError } from '../../../adapters/types.js'
import type { SqlValue, Xid } from '../../../adapters/types.js'
import { makeXid, newGtrid, xidEquals } from '../../../adapters/xid/xid.js'
import { createDatabase, sharedServerUrls, startMariadb } from '../../harness/index.js'

const int = (v: number): SqlValue => ({ kind: 'int', value: BigInt(v) })
const xid = (): Xid => makeXid(newGtrid('mytest'), 'b1')

async function conn(url: string): Promise<mysql.Connection> {
  const c = await mysql.createConnection({ uri: url })
  c.on('error', () => undefined)
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

/** Until `fn` resolves (the server notices a closed connection asynchronously). */
async function eventually<T>(fn: () => Promise<T>, ms = 5000): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    try {
      return await fn()
    } catch (err) {
      if (Date.now() > end) throw err
      await new Promise((r) => setTimeout(r, 100))
    }
  }
}

describe('MysqlAdapter on MariaDB (shared server)', () => {
  let url: string
  let adapter: MysqlAdapter
  let admin: mysql.Connection

  beforeAll(async () => {
    url = await createDatabase(sharedServerUrls().mysqlUrl, 'myadapter')
    admin = await conn(url)
    await admin.query('CREATE TABLE acct (id int PRIMARY KEY, balance bigint NOT NULL) ENGINE=InnoDB')
    await admin.query('INSERT INTO acct WITH RECURSIVE g(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 20) SELECT n, 100 FROM g')
    adapter = new MysqlAdapter({ name: 'my1', kind: 'mysql', url, poolSize: 4 })
    await adapter.init()
    expect(adapter.server?.mariadb).toBe(true)
  })
  afterAll(async () => {
    await adapter?.close()
    await admin?.end()
  })

  const balance = async (id: number): Promise<number> => {
    const [rows] = (await admin.query('SELECT balance FROM acct WHERE id = ?', [id])) as [{ balance: unknown }[], unknown]
    return Number(rows[0]!.balance)
  }

  it('prepares, releases (destroys) the session, commits from another session: writes visible', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    expect(Number(s.serverSessionId)).toBeGreaterThan(0)
    const r = await s.execute('UPDATE acct SET balance = balance + ? WHERE id = ?', [int(5), int(1)])
    expect(r.affectedRows).toBe(1)
    expect(await s.isReadOnly()).toBe(false)
    expect(await s.prepare()).toEqual({ vote: 'prepared' })
    await s.release()
    expect(await balance(1)).toBe(100)
    expect(await eventually(() => adapter.commit(x))).toBe('done')
    expect(await balance(1)).toBe(105)
    expect(await adapter.commit(x)).toBe('already-done')
    expect(await adapter.rollback(x)).toBe('already-done')
  })

  it('prepares and rolls back from another session: nothing visible', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 0 WHERE id = ?', [int(2)])
    expect((await s.prepare()).vote).toBe('prepared')
    await s.release()
    expect(await eventually(() => adapter.rollback(x))).toBe('done')
    expect(await balance(2)).toBe(100)
    expect(await adapter.rollback(x)).toBe('already-done')
  })

  it('commit/rollback of an unknown XID is already-done', async () => {
    expect(await adapter.commit(xid())).toBe('already-done')
    expect(await adapter.rollback(xid())).toBe('already-done')
  })

  it('while the preparing session lives, commit from another session is retryable, never done; it succeeds once that session ends', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 77 WHERE id = 3', [])
    expect((await s.prepare()).vote).toBe('prepared')
    const e = await expectAdapterError(adapter.commit(x), 'retryable')
    expect(e.serverCode).toBe('1397')
    expect(e.message).toMatch(/attached to another live session/)
    await expectAdapterError(adapter.rollback(x), 'retryable')
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(true)
    await s.release()
    expect(await eventually(() => adapter.commit(x))).toBe('done')
    expect(await balance(3)).toBe(77)
  })

  it('phase 2 on the preparing session itself', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 7 WHERE id = 4', [])
    expect((await s.prepare()).vote).toBe('prepared')
    expect(await s.commit()).toBe('done')
    await s.release()
    expect(await balance(4)).toBe(7)
  })

  it('returns typed values', async () => {
    const s = await adapter.begin(xid())
    const r = await s.execute(
      "SELECT CAST(9007199254740993 AS SIGNED) AS i, CAST(1.5 AS DOUBLE) AS d, CAST(12.50 AS DECIMAL(10,2)) AS n, 'x' AS t, X'00ff' AS y, " +
        "CAST('2024-01-02 03:04:05.678' AS DATETIME(3)) AS ts, NULL AS z, ? AS p",
      [{ kind: 'int', value: 9007199254740995n }],
    )
    expect(r.rows[0]).toEqual([
      { kind: 'int', value: 9007199254740993n },
      { kind: 'double', value: 1.5 },
      { kind: 'decimal', value: '12.50' },
      { kind: 'string', value: 'x' },
      { kind: 'bytes', value: Buffer.from([0, 255]) },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.678Z') },
      { kind: 'null' },
      { kind: 'int', value: 9007199254740995n },
    ])
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    await s.release()
  })

  it('recover lists only Arbiter branches; a foreign branch is listed by listForeign and never touched', async () => {
    const foreign = await conn(url)
    await foreign.query("XA START 'foreign',''")
    await foreign.query('UPDATE acct SET balance = balance + 1 WHERE id = 5')
    await foreign.query("XA END 'foreign',''")
    await foreign.query("XA PREPARE 'foreign',''")
    await foreign.end()
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 6', [])
    await s.prepare()
    await s.release()
    const mine = await adapter.recover()
    expect(mine.some((b) => xidEquals(b.xid, x))).toBe(true)
    expect(mine.every((b) => b.xid.formatId === 0x41524254)).toBe(true)
    const foreignList = await adapter.listForeign()
    expect(foreignList.map((f) => f.rawId)).toContain("X'666f726569676e',X'',1")
    expect((await adapter.health()).preparedBranches).toBe(mine.length)
    for (const b of mine) await eventually(() => adapter.rollback(b.xid))
    const [rows] = (await admin.query('XA RECOVER')) as [{ formatID: number }[], unknown]
    expect(rows.filter((r) => Number(r.formatID) === 1)).toHaveLength(1)
    await admin.query("XA ROLLBACK 'foreign',''")
  })

  it('a deadlock before prepare: the victim votes no with the reason', async () => {
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
    expect(victimErr.serverCode).toBe('1213')
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
    if (v.vote === 'no') expect(v.reason).toMatch(/Duplicate entry/)
    await s.release()
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)
    expect(await balance(10)).toBe(100)
  })

  it('read-only branches vote read-only (no prepared leftover); a read-only branch prepared by hand gives 1402 after detach, handled', async () => {
    const x = xid()
    const s = await adapter.begin(x)
    await s.execute('SELECT * FROM acct WHERE id = 11 FOR UPDATE', [])
    expect(await s.isReadOnly()).toBe(true)
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    await s.release()
    expect((await adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)

    // A local branch whose baseline is unknown is prepared read-only; after its
    // connection ends MariaDB discards it: rollback → already-done, commit → the truth.
    for (const action of ['rollback', 'commit'] as const) {
      const y = xid()
      const c = await conn(url)
      await c.query(`XA START X'${y.gtrid.toString('hex')}',X'${y.bqual.toString('hex')}',${y.formatId}`)
      await c.query('SELECT 1')
      expect((await mysqlLocalBranch.prepare(c, y, 'my1')).vote).toBe('prepared')
      await c.end()
      await new Promise((r) => setTimeout(r, 200))
      if (action === 'rollback') expect(await adapter.rollback(y)).toBe('already-done')
      else expect((await expectAdapterError(adapter.commit(y), 'fatal')).serverCode).toBe('1402')
      expect(await adapter.rollback(y)).toBe('already-done')
    }
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

  it('local branch on a mysql2 promise connection: start, write, prepare, commit; and prepare + rollback', async () => {
    const c = await conn(url)
    try {
      const x = xid()
      await mysqlLocalBranch.start(c, x, 'my1')
      await c.query('UPDATE acct SET balance = 300 WHERE id = 13')
      expect(await mysqlLocalBranch.prepare(c, x, 'my1')).toEqual({ vote: 'prepared' })
      expect(await balance(13)).toBe(100)
      await expectAdapterError(adapter.commit(x), 'retryable') // attached to c
      expect(await mysqlLocalBranch.commit(c, x, 'my1')).toBe('done')
      expect(await balance(13)).toBe(300)
      expect(await mysqlLocalBranch.commit(c, x, 'my1')).toBe('already-done')

      const y = xid()
      await mysqlLocalBranch.start(c, y, 'my1')
      await c.query('UPDATE acct SET balance = 0 WHERE id = 14')
      expect((await mysqlLocalBranch.prepare(c, y, 'my1')).vote).toBe('prepared')
      expect(await mysqlLocalBranch.rollback(c, y, 'my1')).toBe('done')
      expect(await balance(14)).toBe(100)

      const z = xid()
      await mysqlLocalBranch.start(c, z, 'my1')
      await c.query('SELECT 1')
      expect(await mysqlLocalBranch.prepare(c, z, 'my1')).toEqual({ vote: 'read-only' })
    } finally {
      await c.end()
    }
  })

  it('a closed port gives a retryable error within a bounded time', async () => {
    const srv = net.createServer()
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
    const port = (srv.address() as net.AddressInfo).port
    await new Promise<void>((r) => srv.close(() => r()))
    const dead = new MysqlAdapter({ name: 'dead', kind: 'mysql', url: `mysql://root@127.0.0.1:${port}/x`, connectTimeoutMs: 2000 })
    const t0 = Date.now()
    await expectAdapterError(dead.init(), 'retryable')
    await expectAdapterError(dead.commit(xid()), 'retryable')
    expect(Date.now() - t0).toBeLessThan(5000)
    expect((await dead.health()).reachable).toBe(false)
    await dead.close()
  })
})

describe('MysqlAdapter on MariaDB (dedicated server)', () => {
  it('a prepared branch survives kill + restart, keeps its locks, and commits afterwards; a down server is retryable', async () => {
    const srv = await startMariadb()
    try {
      const url = await createDatabase(srv.url, 'mycrash')
      const setup = await conn(url)
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

      await srv.kill()
      const t0 = Date.now()
      await expectAdapterError(a.commit(x), 'retryable')
      await expectAdapterError(a.begin(xid()), 'retryable')
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect((await a.health()).reachable).toBe(false)
      await s.release()

      await srv.restart()
      expect((await eventually(() => a.recover())).some((b) => xidEquals(b.xid, x))).toBe(true)
      const c = await conn(url)
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
