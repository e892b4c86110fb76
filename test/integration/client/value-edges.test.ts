// Values at the edges, through a real TM: a string no protobuf message can
// carry, a column named __proto__, MariaDB dates that are no real day.
// Found by hostile testing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { InvalidArgumentError } from '../../../client/index.js'
import { closeClientEnv, openClientEnv, type ClientEnv } from './client-env.js'

describe('client values at the edges', () => {
  let env: ClientEnv

  beforeAll(async () => {
    env = await openClientEnv('valedges')
    await env.dbs.pgQuery('CREATE TABLE notes (id int PRIMARY KEY, v text)')
  })
  afterAll(async () => {
    await closeClientEnv(env ?? {})
  })

  it('a string with a lone surrogate is refused before it is sent, naming the parameter; the transaction goes on', async () => {
    const cut = '😀 party'.slice(1) // text cut inside an emoji
    await env.client.transaction(async (tx) => {
      await tx.execute('pg', 'INSERT INTO notes VALUES ($1, $2)', [1, 'ok'])
      const err = await tx.execute('pg', 'INSERT INTO notes VALUES ($1, $2)', [2, cut]).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(err).toBeInstanceOf(InvalidArgumentError)
      expect((err as Error).message).toMatch(/^parameter 2: .*lone surrogate/)
      await tx.execute('pg', 'INSERT INTO notes VALUES ($1, $2)', [3, 'after'])
    })
    await expect(env.client.run([{ resource: 'pg', sql: 'INSERT INTO notes VALUES ($1, $2)', params: [4, `a${cut}`] }])).rejects.toThrow(/parameter 2: .*lone surrogate/)
    expect(await env.dbs.pgQuery('SELECT id, v FROM notes ORDER BY id')).toEqual([
      { id: 1, v: 'ok' },
      { id: 3, v: 'after' },
    ])
  })

  // Found by hostile testing: these were TypeErrors ("params.map is not a function"), not ArbiterErrors.
  it('params that are not an array: InvalidArgumentError naming params, in execute(), executeBatch() and run(); nothing sent', async () => {
    const bad: unknown[] = [5, 'abc', { id: 1 }, null, new Set([1])]
    for (const params of bad) {
      await env.client.transaction(async (tx) => {
        const err = await tx.execute('pg', 'SELECT $1::int', params as never).then(() => undefined, (e: unknown) => e)
        expect(err).toBeInstanceOf(InvalidArgumentError)
        expect((err as Error).message).toMatch(/^execute\(\): params must be an array of values/)
        const batch = await tx.executeBatch([{ resource: 'pg', sql: 'SELECT $1::int', params: params as never }]).then(() => undefined, (e: unknown) => e)
        expect((batch as Error).message).toMatch(/^executeBatch\(\): statement 1: params must be an array/)
      })
      await expect(env.client.run([{ resource: 'pg', sql: 'SELECT $1::int', params: params as never }])).rejects.toThrow(/^run\(\): statement 1: params must be an array/)
    }
  })

  it("the transaction's options checked: labels of strings only, a real AbortSignal, an object at all", async () => {
    const cases: [unknown, RegExp][] = [
      ['purpose', /options must be an object/],
      [null, /options must be an object/],
      [{ labels: 'purpose' }, /labels must be an object of string values/],
      [{ labels: { a: { b: 1 } } }, /labels\.a must be a string \(got an object/],
      [{ labels: { a: null } }, /labels\.a must be a string \(got null\)/],
      [{ labels: { n: 5 } }, /labels\.n must be a string \(got number 5\)/],
      [{ signal: 'abc' }, /signal must be an AbortSignal/],
    ]
    for (const [options, message] of cases) {
      const viaTransaction = await env.client.transaction(async () => 'ran', options as never).then((v) => v, (e: unknown) => e)
      expect(viaTransaction).toBeInstanceOf(InvalidArgumentError)
      expect((viaTransaction as Error).message).toMatch(message)
      await expect(env.client.run([{ resource: 'pg', sql: 'SELECT 1' }], options as never)).rejects.toThrow(message)
    }
  })

  it('a column named __proto__ is kept in the row as an own property', async () => {
    const { results } = await env.client.run([{ resource: 'pg', sql: 'SELECT 7 AS "__proto__", 8 AS x' }])
    const row = results[0]!.rows[0]!
    expect(Object.keys(row)).toEqual(['__proto__', 'x'])
    expect(Object.getOwnPropertyDescriptor(row, '__proto__')?.value).toBe(7)
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype)
    expect(JSON.stringify(row)).toBe('{"__proto__":7,"x":8}')
  })

  it('MariaDB dates come back as the server holds them: a zero date as its text, year 0050 in the first century', async () => {
    await env.dbs.mysqlQuery('CREATE TABLE days (id int PRIMARY KEY, d date, dt datetime(6))')
    await env.client.transaction(async (tx) => {
      await tx.execute('maria', "INSERT INTO days VALUES (1, '0000-00-00', '2024-05-00 10:00:00'), (2, '0050-06-15', '2024-01-01 12:34:56.123456')")
    })
    const { results } = await env.client.run([{ resource: 'maria', sql: 'SELECT d, dt FROM days ORDER BY id' }])
    expect(results[0]!.rows).toEqual([
      { d: '0000-00-00', dt: '2024-05-00 10:00:00.000000' },
      { d: new Date('0050-06-15T00:00:00Z'), dt: new Date('2024-01-01T12:34:56.123Z') },
    ])
  })
})
