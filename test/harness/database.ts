// Per-test databases on a shared server, and a driver-level ping by URL.
import crypto from 'node:crypto'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { Redis } from 'ioredis'

type Dialect = 'postgres' | 'mysql' | 'redis'

function dialectOf(url: string): Dialect {
  const protocol = new URL(url).protocol
  if (protocol === 'postgres:' || protocol === 'postgresql:') return 'postgres'
  if (protocol === 'mysql:' || protocol === 'mariadb:') return 'mysql'
  if (protocol === 'redis:' || protocol === 'rediss:') return 'redis'
  throw new Error(`unsupported server URL scheme ${protocol} (want postgres:, mysql: or redis:)`)
}

/** mysql2 wants mysql://; accept mariadb:// too. */
function mysqlUri(url: string): string {
  return url.replace(/^mariadb:/, 'mysql:')
}

/** A lower-case identifier: prefix (letters, digits, _) + '_' + 8 random hex digits, at most 63 characters. */
function uniqueName(prefix: string): string {
  let p = prefix.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '')
  if (p === '' || !/^[a-z_]/.test(p)) p = `t_${p}`
  return `${p.slice(0, 50)}_${crypto.randomBytes(4).toString('hex')}`
}

/**
 * Creates a fresh empty database with a unique name (prefix + random) on a
 * PostgreSQL or MySQL/MariaDB server and returns its URL (same credentials).
 * For Redis returns the URL unchanged. Databases are not dropped: throwaway
 * servers are deleted at the end of the run.
 */
export async function createDatabase(serverUrl: string, prefix: string): Promise<string> {
  const dialect = dialectOf(serverUrl)
  if (dialect === 'redis') return serverUrl
  const name = uniqueName(prefix)
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: serverUrl, connectionTimeoutMillis: 10_000 })
    client.on('error', () => undefined)
    await client.connect()
    try {
      await client.query(`CREATE DATABASE "${name}"`)
    } finally {
      await client.end()
    }
  } else {
    const conn = await mysql.createConnection({ uri: mysqlUri(serverUrl), connectTimeout: 10_000 })
    conn.on('error', () => undefined)
    try {
      await conn.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4`)
    } finally {
      await conn.end()
    }
  }
  const u = new URL(serverUrl)
  u.pathname = `/${name}`
  return u.toString()
}

/** Connects to the URL and runs SELECT 1 / PING; rejects on failure or after timeoutMs (a paused server included). */
export async function ping(url: string, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from ${url.replace(/:[^:@/]*@/, ':***@')} within ${timeoutMs} ms`)), timeoutMs)
  })
  const attempt = pingOnce(url, timeoutMs)
  attempt.catch(() => undefined)
  try {
    await Promise.race([attempt, timeout])
  } finally {
    clearTimeout(timer)
  }
}

async function pingOnce(url: string, timeoutMs: number): Promise<void> {
  const dialect = dialectOf(url)
  if (dialect === 'postgres') {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs })
    client.on('error', () => undefined)
    try {
      await client.connect()
      await client.query('SELECT 1')
    } finally {
      await client.end().catch(() => undefined)
    }
  } else if (dialect === 'mysql') {
    const conn = await mysql.createConnection({ uri: mysqlUri(url), connectTimeout: timeoutMs })
    conn.on('error', () => undefined)
    try {
      await conn.query({ sql: 'SELECT 1', timeout: timeoutMs })
    } finally {
      conn.destroy()
    }
  } else {
    const client = probeClient(url, timeoutMs)
    try {
      await client.connect()
      await client.ping()
    } finally {
      client.disconnect()
    }
  }
}

/**
 * A short-lived ioredis client that fails fast instead of retrying (no
 * reconnects, no offline queue), for pings and start-up probes. Connect it
 * with connect(); its 'error' events are swallowed, the calls reject.
 */
export function probeClient(target: string | { host: string; port: number }, timeoutMs: number): Redis {
  const options = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  }
  const client = typeof target === 'string' ? new Redis(target, options) : new Redis({ ...target, ...options })
  client.on('error', () => undefined)
  return client
}
