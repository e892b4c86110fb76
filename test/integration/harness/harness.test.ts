// The harness against real servers it starts itself (not the run's shared
// ones): two-phase commit survives restart and crash, kill/pause/resume do
// what fault tests expect, destroy leaves nothing behind, and a server that
// cannot start fails fast with a message naming the server and the cause.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  HarnessStartError,
  HarnessUnsupportedError,
  createDatabase,
  mariadbFromEnvOrStart,
  ping,
  postgresFromEnvOrStart,
  redisFromEnvOrStart,
  sharedServerUrls,
  startMariadb,
  startPostgres,
  startRedis,
  whyNotControllable,
  type TestServer,
} from '../../harness/index.js'

/** Fails the test if the promise rejects or resolves; returns the error. */
async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (err) {
    return err as Error
  }
  throw new Error('expected a rejection')
}

function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3)
    return state !== 'Z' && state !== 'X'
  } catch {
    return false
  }
}

/** The server's processes (main pid + children) and its temp folder (the one whose harness.pid names it). */
function inspect(server: TestServer): { pids: number[]; dir: string } {
  const pid = server.pid!
  const dir = fs
    .readdirSync(os.tmpdir())
    .filter((n) => n.startsWith('arbiter-test-'))
    .map((n) => path.join(os.tmpdir(), n))
    .find((d) => {
      try {
        return fs.readFileSync(path.join(d, 'harness.pid'), 'utf8').trim() === String(pid)
      } catch {
        return false
      }
    })
  if (dir === undefined) throw new Error(`no temp folder for pid ${pid}`)
  const children = fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .filter((n) => {
      try {
        const s = fs.readFileSync(`/proc/${n}/stat`, 'utf8')
        return s.slice(s.lastIndexOf(')') + 2).split(' ')[1] === String(pid)
      } catch {
        return false
      }
    })
    .map(Number)
  return { pids: [pid, ...children], dir }
}

async function pgQuery<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 })
  await client.connect()
  try {
    return (await client.query<T>(sql)).rows
  } finally {
    await client.end()
  }
}

describe('PostgreSQL', () => {
  let server: TestServer
  let url: string
  beforeAll(async () => {
    server = await postgresFromEnvOrStart()
    url = await createDatabase(server.url, 'harness_pg')
    await pgQuery(url, 'CREATE TABLE t (id int PRIMARY KEY)')
  })
  afterAll(async () => {
    await server?.destroy()
  })

  it('accepts PREPARE TRANSACTION; the prepared transaction survives restart()', async (ctx) => {
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    await client.query('BEGIN')
    await client.query('INSERT INTO t VALUES (1)')
    await client.query("PREPARE TRANSACTION 'harness-pg-1'")
    await client.end()
    const why = whyNotControllable(server)
    if (why !== undefined) {
      await pgQuery(url, "ROLLBACK PREPARED 'harness-pg-1'")
      ctx.skip(why)
    }
    await server.restart()
    const rows = await pgQuery<{ gid: string }>(server.url, "SELECT gid FROM pg_prepared_xacts WHERE gid = 'harness-pg-1'")
    expect(rows).toEqual([{ gid: 'harness-pg-1' }])
    await pgQuery(url, "COMMIT PREPARED 'harness-pg-1'")
    expect(await pgQuery(url, 'SELECT id FROM t')).toEqual([{ id: 1 }])
  })

  it('kill() makes it unreachable and takes every backend; restart() brings it back with prepared transactions', async (ctx) => {
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    client.on('error', () => undefined)
    await client.query('BEGIN')
    await client.query('INSERT INTO t VALUES (2)')
    await client.query("PREPARE TRANSACTION 'harness-pg-2'")
    const { pids } = inspect(server)
    expect(pids.length).toBeGreaterThan(2) // postmaster, its helpers and our backend
    await server.kill()
    expect(server.pid).toBeUndefined()
    expect(pids.filter(isAlive)).toEqual([])
    await expect(ping(url, 2000)).rejects.toThrow()
    await client.end().catch(() => undefined)
    await server.restart()
    expect(server.pid).toBeGreaterThan(0)
    const rows = await pgQuery<{ gid: string }>(server.url, "SELECT gid FROM pg_prepared_xacts WHERE gid = 'harness-pg-2'")
    expect(rows).toHaveLength(1)
    await pgQuery(url, "COMMIT PREPARED 'harness-pg-2'")
  })

  it('pause() stalls open connections and new ones; resume() lets them go on', async (ctx) => {
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    const client = new pg.Client({ connectionString: url, query_timeout: 500 })
    await client.connect()
    client.on('error', () => undefined)
    await server.pause()
    try {
      await expect(client.query('SELECT 1')).rejects.toThrow(/timeout/i)
      await expect(ping(url, 500)).rejects.toThrow()
    } finally {
      await server.resume()
    }
    await ping(url, 5000)
    await client.end().catch(() => undefined)
  })
})

describe('MariaDB', () => {
  let server: TestServer
  let url: string
  beforeAll(async () => {
    server = await mariadbFromEnvOrStart()
    url = await createDatabase(server.url, 'harness_my')
    const conn = await mysql.createConnection(url)
    await conn.query('CREATE TABLE t (id int PRIMARY KEY) ENGINE=InnoDB')
    await conn.end()
  })
  afterAll(async () => {
    await server?.destroy()
  })

  async function recovered(): Promise<string[]> {
    const conn = await mysql.createConnection(url)
    try {
      const [rows] = await conn.query<mysql.RowDataPacket[]>('XA RECOVER')
      return rows.map((r) => String(r.data))
    } finally {
      await conn.end()
    }
  }

  async function prepare(xid: string, id: number): Promise<void> {
    const conn = await mysql.createConnection(url)
    await conn.query(`XA START '${xid}'`)
    await conn.query('INSERT INTO t VALUES (?)', [id])
    await conn.query(`XA END '${xid}'`)
    await conn.query(`XA PREPARE '${xid}'`)
    await conn.end()
  }

  it('accepts XA START/END/PREPARE; the branch survives restart()', async (ctx) => {
    await prepare('harness-my-1', 1)
    expect(await recovered()).toContain('harness-my-1')
    const why = whyNotControllable(server)
    if (why !== undefined) {
      const conn = await mysql.createConnection(url)
      await conn.query("XA ROLLBACK 'harness-my-1'")
      await conn.end()
      ctx.skip(why)
    }
    await server.restart()
    expect(await recovered()).toContain('harness-my-1')
    const conn = await mysql.createConnection(url)
    await conn.query("XA COMMIT 'harness-my-1'")
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT id FROM t')
    expect(rows.map((r) => r.id)).toEqual([1])
    await conn.end()
  })

  it('kill() makes it unreachable; restart() brings it back with the prepared branch', async (ctx) => {
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    await prepare('harness-my-2', 2)
    const { pids } = inspect(server)
    await server.kill()
    expect(pids.filter(isAlive)).toEqual([])
    await expect(ping(url, 2000)).rejects.toThrow()
    await server.restart()
    expect(await recovered()).toContain('harness-my-2')
    const conn = await mysql.createConnection(url)
    await conn.query("XA ROLLBACK 'harness-my-2'")
    await conn.end()
  })

  it('pause() stalls it; resume() lets it answer again', async (ctx) => {
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    await server.pause()
    try {
      await expect(ping(url, 500)).rejects.toThrow()
    } finally {
      await server.resume()
    }
    await ping(url, 5000)
  })
})

describe('Redis', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await redisFromEnvOrStart()
  })
  afterAll(async () => {
    await server?.destroy()
  })

  async function withRedis<T>(fn: (r: Redis) => Promise<T>): Promise<T> {
    const r = new Redis(server.url, { maxRetriesPerRequest: 1 })
    r.on('error', () => undefined)
    try {
      return await fn(r)
    } finally {
      r.disconnect()
    }
  }

  it('answers PING and keeps a key across restart() and kill()', async (ctx) => {
    const key = `harness:${Date.now()}`
    await withRedis(async (r) => {
      expect(await r.ping()).toBe('PONG')
      await r.set(key, 'kept')
    })
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    await server.restart()
    expect(await withRedis((r) => r.get(key))).toBe('kept')
    await withRedis((r) => r.set(`${key}:2`, 'fsynced'))
    await server.kill()
    await expect(ping(server.url, 1000)).rejects.toThrow()
    await server.restart()
    // appendfsync always: an acknowledged write survives SIGKILL.
    expect(await withRedis((r) => r.get(`${key}:2`))).toBe('fsynced')
  })

  it('pause() stalls it; resume() lets it answer again', async (ctx) => {
    const why = whyNotControllable(server)
    if (why !== undefined) ctx.skip(why)
    await server.pause()
    try {
      await expect(ping(server.url, 500)).rejects.toThrow()
    } finally {
      await server.resume()
    }
    await ping(server.url, 5000)
  })
})

describe('destroy()', () => {
  it.each([
    ['postgres', startPostgres],
    ['mariadb', startMariadb],
    ['redis', startRedis],
  ] as const)('%s: the processes are gone and the temp folder removed', async (_kind, start) => {
    const server = await start()
    const { pids, dir } = inspect(server)
    expect(dir.startsWith(path.join(os.tmpdir(), 'arbiter-test-'))).toBe(true)
    expect(fs.existsSync(dir)).toBe(true)
    await server.destroy()
    expect(pids.filter(isAlive)).toEqual([])
    expect(fs.existsSync(dir)).toBe(false)
    await server.destroy() // twice is fine
  })
})

describe('servers that cannot start fail fast and say why', () => {
  let blocker: net.Server
  let takenPort: number
  beforeAll(async () => {
    blocker = net.createServer((s) => s.destroy())
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    takenPort = (blocker.address() as net.AddressInfo).port
  })
  afterAll(async () => {
    await new Promise((resolve) => blocker.close(resolve))
  })

  it.each([
    ['postgres', 'PostgreSQL', startPostgres],
    ['mariadb', 'MariaDB', startMariadb],
    ['redis', 'Redis', startRedis],
  ] as const)('%s on a port that is already taken', async (_kind, pretty, start) => {
    const t0 = Date.now()
    const err = await rejection(start({ port: takenPort }))
    expect(err).toBeInstanceOf(HarnessStartError)
    expect(err.message).toContain(pretty)
    expect(err.message).toContain(`port ${takenPort} is already in use`)
    expect(Date.now() - t0).toBeLessThan(20_000)
  })

  it.each([
    ['postgres', 'initdb', 'postgresql', startPostgres],
    ['mariadb', 'mariadbd', 'mariadb-server', startMariadb],
    ['redis', 'redis-server', 'redis-server', startRedis],
  ] as const)('%s with its binary missing names the binary and the Debian package', async (_kind, binary, pkg, start) => {
    const err = await rejection(start({ binDir: '/nonexistent/arbiter-bin' }))
    expect(err).toBeInstanceOf(HarnessStartError)
    expect((err as HarnessStartError).reason).toBe('binary-missing')
    expect(err.message).toContain(`${binary} not found`)
    expect(err.message).toContain(`'${pkg}'`)
  })

  it('a server that never gets ready is killed after startTimeoutMs, with its log tail', async () => {
    const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-test-fakebin-'))
    try {
      fs.writeFileSync(path.join(bin, 'redis-server'), '#!/bin/sh\necho "fake redis: never listening"\nexec sleep 600\n', { mode: 0o755 })
      const t0 = Date.now()
      const err = await rejection(startRedis({ binDir: bin, startTimeoutMs: 1500 }))
      expect(Date.now() - t0).toBeLessThan(10_000)
      expect((err as HarnessStartError).reason).toBe('timeout')
      expect(err.message).toMatch(/^Redis .* was not ready after/)
      expect(err.message).toContain('fake redis: never listening')
      const leftovers = fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('arbiter-test-redis-'))
      for (const n of leftovers) expect(fs.existsSync(path.join(os.tmpdir(), n, 'appendonlydir'))).toBe(true) // only real, running servers
    } finally {
      fs.rmSync(bin, { recursive: true, force: true })
    }
  })
})

describe('external servers (env URL)', () => {
  it('are used as they are and refuse to be controlled, saying why', async () => {
    const real = await startRedis()
    const saved = process.env.ARBITER_TEST_REDIS_URL
    process.env.ARBITER_TEST_REDIS_URL = real.url
    try {
      const ext = await redisFromEnvOrStart()
      expect(ext).toMatchObject({ external: true, controllable: false, url: real.url, port: real.port, pid: undefined })
      expect(whyNotControllable(ext)).toContain('ARBITER_TEST_REDIS_URL')
      expect(whyNotControllable('redis')).toContain('ARBITER_TEST_REDIS_URL')
      for (const op of [() => ext.stop(), () => ext.kill(), () => ext.pause(), () => ext.resume(), () => ext.restart()]) {
        const err = await rejection(op())
        expect(err).toBeInstanceOf(HarnessUnsupportedError)
        expect(err.message).toContain('ARBITER_TEST_REDIS_URL')
      }
      await ext.destroy() // no-op
      await ping(real.url, 2000)
    } finally {
      if (saved === undefined) delete process.env.ARBITER_TEST_REDIS_URL
      else process.env.ARBITER_TEST_REDIS_URL = saved
      await real.destroy()
    }
  })

  it('that do not answer fail with the env variable in the message', async () => {
    const saved = process.env.ARBITER_TEST_REDIS_URL
    process.env.ARBITER_TEST_REDIS_URL = 'redis://127.0.0.1:1'
    try {
      const err = await rejection(redisFromEnvOrStart())
      expect(err.message).toContain('ARBITER_TEST_REDIS_URL')
    } finally {
      if (saved === undefined) delete process.env.ARBITER_TEST_REDIS_URL
      else process.env.ARBITER_TEST_REDIS_URL = saved
    }
  })
})

describe('shared servers and createDatabase', () => {
  it('globalSetup provides answering servers; createDatabase makes distinct empty databases', async () => {
    const { pgUrl, mysqlUrl, redisUrl } = sharedServerUrls()
    await Promise.all([ping(pgUrl, 5000), ping(mysqlUrl, 5000), ping(redisUrl, 5000)])
    const [pgA, pgB, myA, myB, redis] = await Promise.all([
      createDatabase(pgUrl, 'Harness-Test'),
      createDatabase(pgUrl, 'harness_test'),
      createDatabase(mysqlUrl, 'harness_test'),
      createDatabase(mysqlUrl, 'harness_test'),
      createDatabase(redisUrl, 'ignored'),
    ])
    expect(pgA).not.toBe(pgB)
    expect(myA).not.toBe(myB)
    expect(new URL(pgA).pathname).toMatch(/^\/harness_test_[0-9a-f]{8}$/)
    expect(redis).toBe(redisUrl)
    expect(await pgQuery(pgA, "SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'")).toEqual([{ n: 0 }])
    const conn = await mysql.createConnection(myA)
    const [rows] = await conn.query<mysql.RowDataPacket[]>('SELECT DATABASE() AS db')
    expect(rows[0]?.db).toBe(new URL(myA).pathname.slice(1))
    await conn.end()
  })
})
