// What MysqlAdapter reads and writes on MariaDB, value by value: the session's
// time zone, dates as the server holds them, decimals with an exponent.
// Found by hostile testing: each of these was changed silently.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type mysql from 'mysql2/promise'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import type { SqlValue } from '../../../adapters/types.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { int, newXid } from './adapter-test-helpers.js'
import { mysqlConn } from './sql-dialects.js'

const xid = () => newXid('myvalues')

describe('MysqlAdapter values on MariaDB (shared server)', () => {
  let url: string
  let adapter: MysqlAdapter
  let direct: mysql.Connection

  /** One branch on `a`: runs the statements, commits in one phase, returns the last result's rows. */
  async function branch(a: MysqlAdapter, ...statements: [string, SqlValue[]?][]): Promise<(readonly SqlValue[])[]> {
    const s = await a.begin(xid())
    try {
      let rows: (readonly SqlValue[])[] = []
      for (const [sql, params = []] of statements) rows = [...(await s.execute(sql, params)).rows]
      await s.commitOnePhase()
      return rows
    } finally {
      await s.release()
    }
  }

  beforeAll(async () => {
    url = await createDatabase(sharedServerUrls().mysqlUrl, 'myvalues')
    adapter = new MysqlAdapter({ name: 'myvalues', kind: 'mysql', url, poolSize: 2 })
    await adapter.init()
    direct = await mysqlConn(url)
  })
  afterAll(async () => {
    await adapter?.close()
    await direct?.end()
  })

  it("every TM session runs with time_zone '+00:00': on a new connection and after the reset that returns one to the pool", async () => {
    const one = new MysqlAdapter({ name: 'mytz', kind: 'mysql', url, poolSize: 1 })
    await one.init()
    try {
      const tz = async (...before: [string, SqlValue[]?][]): Promise<SqlValue | undefined> =>
        (await branch(one, ...before, ['SELECT @@session.time_zone']))[0]?.[0]
      expect(await tz()).toEqual({ kind: 'string', value: '+00:00' })
      // A statement that moved it (the adapter itself does not refuse it) does not outlive its connection's turn.
      expect(await tz(["SET time_zone = '+05:00'"])).toEqual({ kind: 'string', value: '+05:00' })
      expect(await tz()).toEqual({ kind: 'string', value: '+00:00' })
      expect(await tz()).toEqual({ kind: 'string', value: '+00:00' })
    } finally {
      await one.close()
    }
  })

  it('a Date written to a TIMESTAMP is that instant (UNIX_TIMESTAMP), reads back as it, and NOW() is now', async () => {
    await direct.query('CREATE TABLE ts_rt (id int PRIMARY KEY, ts timestamp(3) NULL, dt datetime(3))')
    const instant = new Date('2024-01-01T12:00:00.250Z')
    await branch(adapter, ['INSERT INTO ts_rt VALUES (1, ?, ?)', [{ kind: 'timestamp', value: instant }, { kind: 'timestamp', value: instant }]])
    // UNIX_TIMESTAMP of a TIMESTAMP column does not depend on the reading session's time zone.
    const [rows] = (await direct.query('SELECT UNIX_TIMESTAMP(ts) AS epoch, CAST(dt AS CHAR) AS dt FROM ts_rt')) as unknown as [{ epoch: string; dt: string }[]]
    expect(rows[0]).toEqual({ epoch: '1704110400.250', dt: '2024-01-01 12:00:00.250' })
    const [row] = await branch(adapter, ['SELECT ts, dt, UNIX_TIMESTAMP(ts), UNIX_TIMESTAMP(NOW(3)) - UNIX_TIMESTAMP(UTC_TIMESTAMP(3)) FROM ts_rt'])
    const [ts, dt, epoch, now] = row ?? []
    expect(ts).toEqual({ kind: 'timestamp', value: instant })
    expect(dt).toEqual({ kind: 'timestamp', value: instant })
    expect(epoch).toEqual({ kind: 'decimal', value: '1704110400.250' })
    // NOW() is the session's wall clock, UTC_TIMESTAMP() UTC's: the same in a UTC session.
    expect(now).toEqual({ kind: 'decimal', value: '0.000' })
  })

  it('DATE, DATETIME and TIMESTAMP come back as the server holds them: real dates as timestamps (microseconds exact), anything else as its exact text', async () => {
    await direct.query('CREATE TABLE dates (id int PRIMARY KEY, d date, dt datetime(6), ts timestamp(6) NULL)')
    // Zero dates and zero parts: MariaDB's default sql_mode takes them; invalid days need ALLOW_INVALID_DATES (this session only).
    await direct.query("SET SESSION sql_mode = 'ALLOW_INVALID_DATES'")
    await direct.query(`INSERT INTO dates VALUES
      (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),
      (2, '2024-00-10', '2024-00-10 10:00:00', NULL),
      (3, '2024-05-00', '2024-05-00 10:00:00.5', NULL),
      (4, '2024-02-30', '2023-02-29 08:00:00', NULL),
      (5, '0001-01-01', '0099-12-31 23:59:59.5', '1970-01-01 00:00:01'),
      (6, '2024-02-29', '2024-01-01 12:34:56.123456', '2024-01-01 12:34:56.123456'),
      (7, '0050-06-15', '1970-01-01 00:00:00.000999', '2038-01-19 03:14:07.999999')`)
    const rows = await branch(adapter, ['SELECT d, dt, ts FROM dates ORDER BY id'])
    const text = (value: string): SqlValue => ({ kind: 'string', value })
    const at = (iso: string, exact?: string): SqlValue => ({ kind: 'timestamp', value: new Date(iso), ...(exact === undefined ? {} : { text: exact }) })
    expect(rows).toEqual([
      [text('0000-00-00'), text('0000-00-00 00:00:00.000000'), text('0000-00-00 00:00:00.000000')],
      [text('2024-00-10'), text('2024-00-10 10:00:00.000000'), { kind: 'null' }],
      [text('2024-05-00'), text('2024-05-00 10:00:00.500000'), { kind: 'null' }],
      [text('2024-02-30'), text('2023-02-29 08:00:00.000000'), { kind: 'null' }],
      [at('0001-01-01T00:00:00Z'), at('0099-12-31T23:59:59.500Z'), at('1970-01-01T00:00:01Z')],
      [at('2024-02-29T00:00:00Z'), at('2024-01-01T12:34:56.123Z', '2024-01-01T12:34:56.123456Z'), at('2024-01-01T12:34:56.123Z', '2024-01-01T12:34:56.123456Z')],
      [at('0050-06-15T00:00:00Z'), at('1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000999Z'), at('2038-01-19T03:14:07.999Z', '2038-01-19T03:14:07.999999Z')],
    ])
  })

  it('a decimal with an exponent is written exactly, not as a DOUBLE', async () => {
    await direct.query('CREATE TABLE dec_exp (id int PRIMARY KEY, v decimal(65,20))')
    const values = ['1234567890123456789012345e-5', '1.2345678901234567890123e22', '1e+21', '-0.000012345678901234567891E+5', '0e7']
    await branch(adapter, ...values.map((v, i): [string, SqlValue[]] => ['INSERT INTO dec_exp VALUES (?, ?)', [int(i), { kind: 'decimal', value: v }]]))
    const [rows] = (await direct.query('SELECT CAST(v AS CHAR) AS v FROM dec_exp ORDER BY id')) as unknown as [{ v: string }[]]
    expect(rows.map((r) => r.v)).toEqual([
      '12345678901234567890.12345000000000000000',
      '12345678901234567890123.00000000000000000000',
      '1000000000000000000000.00000000000000000000',
      '-1.23456789012345678910',
      '0.00000000000000000000',
    ])
  })
})
