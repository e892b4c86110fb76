// What PostgresAdapter reads on a database whose settings a DBA changed
// (ALTER DATABASE … SET): the TM's sessions pin the settings its reading
// of the server's text relies on. Found by hostile testing: floats were
// rounded, dates turned into strings, offsets in seconds were cut.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import type { SqlValue } from '../../../adapters/types.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { newXid } from './adapter-test-helpers.js'
import { pgClient } from './sql-dialects.js'

describe('PostgresAdapter values on a database with its own settings (shared server)', () => {
  let url: string
  const adapters: PostgresAdapter[] = []

  async function adapterOn(u: string): Promise<PostgresAdapter> {
    const a = new PostgresAdapter({ name: 'pgvalues', kind: 'postgres', url: u, poolSize: 1 })
    adapters.push(a)
    await a.init()
    return a
  }

  async function read(a: PostgresAdapter, ...statements: string[]): Promise<(readonly SqlValue[])[]> {
    const s = await a.begin(newXid('pgvalues'))
    try {
      let rows: (readonly SqlValue[])[] = []
      for (const sql of statements) rows = [...(await s.execute(sql, [])).rows]
      await s.commitOnePhase()
      return rows
    } finally {
      await s.release()
    }
  }

  beforeAll(async () => {
    url = await createDatabase(sharedServerUrls().pgUrl, 'pgvalues')
    const c = await pgClient(url)
    const db = new URL(url).pathname.slice(1)
    // The database's own defaults, as a DBA may set them: every new session of it starts with these.
    for (const setting of ['extra_float_digits = 0', "DateStyle = 'SQL, DMY'", "TimeZone = 'America/New_York'", "IntervalStyle = 'sql_standard'"]) {
      await c.query(`ALTER DATABASE "${db}" SET ${setting}`)
    }
    await c.end()
  })
  afterAll(async () => {
    await Promise.all(adapters.map((a) => a.close()))
  })

  it('floats keep every digit, dates stay dates and timestamps the same instants, whatever the database sets', async () => {
    const a = await adapterOn(url)
    const [row] = await read(
      a,
      `SELECT 0.1::float8 + 0.2::float8, 1.1::float4::float8, '2024-01-02'::date, '2024-01-02 03:04:05.678'::timestamp,
              '2024-01-02 03:04:05.123456+00'::timestamptz, '1 day 02:03:04'::interval`,
    )
    expect(row).toEqual([
      { kind: 'double', value: 0.30000000000000004 },
      { kind: 'double', value: 1.100000023841858 },
      { kind: 'timestamp', value: new Date('2024-01-02T00:00:00Z') },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.678Z') },
      { kind: 'timestamp', value: new Date('2024-01-02T03:04:05.123Z'), text: '2024-01-02T03:04:05.123456+00:00' },
      { kind: 'string', value: '1 day 02:03:04' },
    ])
  })

  it('an options parameter of the URL is kept, with the pinned settings after it', async () => {
    const a = await adapterOn(`${url}?options=${encodeURIComponent('-c search_path=custom,public -c DateStyle=German')}`)
    const [row] = await read(a, "SELECT current_setting('search_path'), current_setting('DateStyle'), current_setting('extra_float_digits'), current_setting('TimeZone')")
    expect(row).toEqual(['custom,public', 'ISO, DMY', '3', 'UTC'].map((value) => ({ kind: 'string', value })))
  })

  it('a timestamptz whose offset has seconds (local mean time before 1883) is read to the second', async () => {
    const a = await adapterOn(url)
    // A statement may still move the zone for its transaction: the offset is then read exactly.
    const [row] = await read(
      a,
      "SET LOCAL TimeZone = 'Europe/Amsterdam'",
      "SELECT '1850-06-01 12:00:00+00'::timestamptz, '1850-06-01 12:00:00.123456+00'::timestamptz, '1850-06-01 12:00:00+00'::timestamptz::text",
    )
    expect(row).toEqual([
      { kind: 'timestamp', value: new Date('1850-06-01T12:00:00Z') },
      { kind: 'timestamp', value: new Date('1850-06-01T12:00:00.123Z'), text: '1850-06-01T12:00:00.123456Z' },
      { kind: 'string', value: '1850-06-01 12:19:32+00:19:32' },
    ])
  })
})
