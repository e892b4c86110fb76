// One conformance suite for the SQL adapters (style.md §5): every scenario
// here runs against PostgreSQL (PostgresAdapter) and MariaDB (MysqlAdapter).
// What one server does differently is in its dialect fixture (sql-dialects.ts);
// what only one server has is in postgres-adapter.test.ts / mysql-adapter.test.ts.
import { describe, expect, it } from 'vitest'
import { AdapterError } from '../../../adapters/types.js'
import { ARBITER_FORMAT_ID, xidEquals } from '../../../adapters/xid/xid.js'
import { expectAdapterError, expectClosedPortRetryable, int } from './adapter-test-helpers.js'
import { mariadb, postgres, useSqlAdapter } from './sql-dialects.js'
import type { SqlDialect } from './sql-dialects.js'

const dialects: readonly SqlDialect[] = [postgres, mariadb]

describe.each(dialects.map((d) => [d.label, d] as const))('%s (shared server)', (_label, d) => {
  const t = useSqlAdapter(d, d.dbPrefix)
  const xid = d.newXid
  const p = d.param

  it('prepares, releases the session, commits from another session: writes visible', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    expect(Number(s.serverSessionId)).toBeGreaterThan(0)
    const r = await s.execute(`UPDATE acct SET balance = balance + ${p(1)} WHERE id = ${p(2)}`, [int(5), int(1)])
    expect(r.affectedRows).toBe(1)
    expect(await s.isReadOnly()).toBe(false)
    expect(await s.prepare()).toEqual({ vote: 'prepared' })
    await s.release()
    expect(await t.balance(1)).toBe(100)
    expect((await t.adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(true)
    expect(await d.afterDetach(() => t.adapter.commit(x))).toBe('done')
    expect(await t.balance(1)).toBe(105)
    expect(await t.adapter.commit(x)).toBe('already-done')
    expect(await t.adapter.rollback(x)).toBe('already-done')
  })

  it('prepares and rolls back from another session: nothing visible', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    await s.execute(`UPDATE acct SET balance = 0 WHERE id = ${p(1)}`, [int(2)])
    expect((await s.prepare()).vote).toBe('prepared')
    await s.release()
    expect(await d.afterDetach(() => t.adapter.rollback(x))).toBe('done')
    expect(await t.balance(2)).toBe(100)
    expect(await t.adapter.rollback(x)).toBe('already-done')
  })

  it('health counts the sessions in use as they were before its own check (an idle pool reads 0)', async () => {
    // Found by a newcomer: an idle MySQL pool read "POOL 1/10" in arbiter admin resources and the metrics.
    await t.adapter.health()
    expect((await t.adapter.health()).poolInUse ?? 0).toBe(0)
    const s = await t.adapter.begin(xid())
    expect((await t.adapter.health()).poolInUse).toBe(1)
    await s.rollback()
    await s.release()
  })

  it('commit/rollback of an unknown XID is already-done', async () => {
    expect(await t.adapter.commit(xid())).toBe('already-done')
    expect(await t.adapter.rollback(xid())).toBe('already-done')
  })

  it('phase 2 on the preparing session itself', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    await s.execute('UPDATE acct SET balance = 7 WHERE id = 3', [])
    expect((await s.prepare()).vote).toBe('prepared')
    expect(await s.commit()).toBe('done')
    await s.release()
    expect(await t.balance(3)).toBe(7)
  })

  it('returns typed values', async () => {
    const s = await t.adapter.begin(xid())
    const r = await s.execute(d.typedValues.sql, d.typedValues.params)
    if (d.typedValues.columnTypes !== undefined) expect(r.columns.map((c) => c.type)).toEqual(d.typedValues.columnTypes)
    expect(r.rows[0]).toEqual(d.typedValues.row)
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    await s.release()
  })

  it('recover lists only Arbiter branches; a foreign prepared transaction is listed by listForeign and never touched', async () => {
    const foreignId = await d.foreign.prepare(t.url, 4)
    const x = xid()
    const s = await t.adapter.begin(x)
    await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 5', [])
    await s.prepare()
    await s.release()
    const mine = await t.adapter.recover()
    expect(mine.some((b) => xidEquals(b.xid, x))).toBe(true)
    expect(mine.map((b) => b.rawId)).toContain(d.rawIdOf(x))
    expect(mine.map((b) => b.rawId)).not.toContain(foreignId)
    expect(mine.every((b) => b.xid.formatId === ARBITER_FORMAT_ID)).toBe(true)
    const foreignIds = (await t.adapter.listForeign()).map((f) => f.rawId)
    expect(foreignIds).toContain(foreignId)
    const health = await t.adapter.health()
    expect(health.reachable).toBe(true)
    expect(health.preparedBranches).toBe(mine.length)
    d.checkRecovered?.({ x, mine, foreignIds, health })
    for (const b of mine) await d.afterDetach(() => t.adapter.rollback(b.xid))
    expect(await d.foreign.count(t.admin)).toBe(1)
    await d.foreign.rollback(t.admin)
  })

  it(`a deadlock before prepare: the victim votes no with ${d.deadlockCode} and the reason`, async () => {
    const a = await t.adapter.begin(xid())
    const b = await t.adapter.begin(xid())
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
    expect(victimErr.serverCode).toBe(d.deadlockCode)
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
    const s = await t.adapter.begin(x)
    await s.execute('UPDATE acct SET balance = balance + 1 WHERE id = 10', [])
    await expectAdapterError(s.execute('INSERT INTO acct VALUES (10, 1)', []), 'vote-no')
    const v = await s.prepare()
    expect(v.vote).toBe('no')
    if (v.vote === 'no') expect(v.reason).toMatch(d.duplicateKeyReason)
    await s.release()
    expect((await t.adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)
    expect(await t.balance(10)).toBe(100)
  })

  it('a read-only branch votes read-only and leaves nothing prepared', async () => {
    const x = xid()
    const s = await t.adapter.begin(x)
    await s.execute(d.readOnlySelect, [])
    expect(await s.isReadOnly()).toBe(true)
    expect(await s.prepare()).toEqual({ vote: 'read-only' })
    expect(await s.commit()).toBe('already-done')
    await s.release()
    expect((await t.adapter.recover()).some((b) => xidEquals(b.xid, x))).toBe(false)
  })

  it('one-phase commit', async () => {
    const s = await t.adapter.begin(xid())
    await s.execute('UPDATE acct SET balance = 55 WHERE id = 12', [])
    await s.commitOnePhase()
    await s.release()
    expect(await t.balance(12)).toBe(55)
    const s2 = await t.adapter.begin(xid())
    await expectAdapterError(s2.execute('INSERT INTO acct VALUES (12, 1)', []), 'vote-no')
    await expectAdapterError(s2.commitOnePhase(), 'vote-no')
    await s2.release()
  })

  it("local branch on the driver's own connection: start, write, prepare, commit; and prepare + rollback", async () => {
    const c = await d.openLocal(t.url)
    try {
      const x = xid()
      await c.start(x)
      await c.query('UPDATE acct SET balance = 300 WHERE id = 13')
      expect(await c.prepare(x)).toEqual({ vote: 'prepared' })
      expect(await t.balance(13)).toBe(100)
      expect(await c.commit(x)).toBe('done')
      expect(await t.balance(13)).toBe(300)
      expect(await c.commit(x)).toBe('already-done')

      const y = xid()
      await c.start(y)
      await c.query('UPDATE acct SET balance = 0 WHERE id = 14')
      expect((await c.prepare(y)).vote).toBe('prepared')
      expect(await c.rollback(y)).toBe('done')
      expect(await t.balance(14)).toBe(100)
    } finally {
      await c.end()
    }
  })

  it('one-phase commit on a session whose connection was killed before COMMIT votes no (nothing committed), not an unknown outcome', async () => {
    const s = await t.adapter.begin(xid())
    await s.execute(`UPDATE acct SET balance = 555 WHERE id = ${p(1)}`, [int(19)])
    await t.admin.query(d.kind === 'postgres' ? `SELECT pg_terminate_backend(${s.serverSessionId})` : `KILL CONNECTION ${s.serverSessionId}`)
    await new Promise((r) => setTimeout(r, 300)) // the driver notices the closed connection
    const e = await expectAdapterError(s.commitOnePhase(), 'vote-no')
    expect(e.message).toMatch(/rolled back: .*before (XA )?COMMIT/)
    await s.release()
    expect(await t.balance(19)).toBe(100)
  })

  it('a begin waiting for a pooled connection gives up when its transaction ends (signal), long before connectTimeoutMs; the connection goes back to the pool', async () => {
    const one = d.makeAdapter({ name: d.resource, kind: d.kind, url: t.url, poolSize: 1, connectTimeoutMs: 20_000 })
    await one.init()
    try {
      const held = await one.begin(xid())
      const ended = new AbortController()
      const started = performance.now()
      const waiting = one.begin(xid(), { signal: ended.signal })
      setTimeout(() => ended.abort(), 100)
      const e = await expectAdapterError(waiting, 'retryable')
      expect(e.message).toMatch(/ended while waiting for a connection/)
      expect(performance.now() - started).toBeLessThan(5_000)
      expect(await held.rollback()).toBe('done')
      await held.release()
      // The pool's one connection is free again: nothing kept it for the abandoned begin.
      const next = await one.begin(xid(), { signal: AbortSignal.timeout(5_000) })
      expect(await next.rollback()).toBe('done')
      await next.release()
    } finally {
      await one.close()
    }
  })

  it('a closed port gives a retryable error within a bounded time', async () => {
    await expectClosedPortRetryable((port) => d.makeAdapter({ name: 'dead', kind: d.kind, url: d.deadUrl(port), connectTimeoutMs: 2000 }))
  })
})
