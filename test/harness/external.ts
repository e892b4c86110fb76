// Servers given by env URL (ARBITER_TEST_*_URL): used as they are, never controlled.
import { ping } from './database.js'
import { startMariadb, type MariadbOptions } from './mariadb.js'
import { startPostgres, type PostgresOptions } from './postgres.js'
import { startRedis, type RedisOptions } from './redis.js'
import { ENV_URL, HarnessStartError, HarnessUnsupportedError, PRETTY, type ServerKind, type TestServer } from './types.js'

const DEFAULT_PORT: Record<ServerKind, number> = { postgres: 5432, mariadb: 3306, redis: 6379 }

/** The env URL for this kind of server, if set (empty counts as unset). */
export function envUrl(kind: ServerKind): string | undefined {
  const v = process.env[ENV_URL[kind]]
  return v !== undefined && v.trim() !== '' ? v.trim() : undefined
}

/** The URL without its password, for messages. */
export function redact(url: string): string {
  try {
    const u = new URL(url)
    if (u.password !== '') u.password = '***'
    return u.toString()
  } catch {
    return url
  }
}

/**
 * Why the harness cannot stop/kill/pause/restart this server (or servers of
 * this kind in this run), for skip messages; undefined when it can.
 *
 *   it('survives a crash', async (ctx) => {
 *     const why = whyNotControllable(server)
 *     if (why !== undefined) ctx.skip(why)
 *     ...
 */
export function whyNotControllable(serverOrKind: TestServer | ServerKind): string | undefined {
  const kind = typeof serverOrKind === 'string' ? serverOrKind : serverOrKind.kind
  if (typeof serverOrKind !== 'string' && serverOrKind.controllable) return undefined
  if (typeof serverOrKind === 'string' && envUrl(kind) === undefined) return undefined
  return (
    `needs to stop/kill/pause ${PRETTY[kind]}, but it is an external server from ${ENV_URL[kind]}; ` +
    `unset ${ENV_URL[kind]} to let the harness start its own`
  )
}

class ExternalServer implements TestServer {
  readonly external = true
  readonly controllable = false
  readonly pid = undefined
  readonly port: number

  constructor(
    readonly kind: ServerKind,
    readonly url: string,
  ) {
    const p = new URL(url).port
    this.port = p !== '' ? Number(p) : DEFAULT_PORT[kind]
  }

  // Async, so callers get a rejected promise rather than a synchronous throw.
  private unsupported(what: string): never {
    throw new HarnessUnsupportedError(
      `cannot ${what} ${PRETTY[this.kind]} at ${redact(this.url)}: it is an external server from ${ENV_URL[this.kind]}, ` +
        `not started by the harness. Unset ${ENV_URL[this.kind]} to let the harness start a throwaway server it can control.`,
    )
  }

  async stop(): Promise<void> {
    this.unsupported('stop')
  }
  async kill(): Promise<void> {
    this.unsupported('kill')
  }
  async pause(): Promise<void> {
    this.unsupported('pause')
  }
  async resume(): Promise<void> {
    this.unsupported('resume')
  }
  async restart(): Promise<void> {
    this.unsupported('restart')
  }
  async destroy(): Promise<void> {
    // not ours to delete
  }
}

/** Wraps an env URL as a TestServer after checking that it answers. */
export async function externalServer(kind: ServerKind, url: string): Promise<TestServer> {
  try {
    await ping(url, 10_000)
  } catch (err) {
    throw new HarnessStartError(
      `${PRETTY[kind]} from ${ENV_URL[kind]}=${redact(url)} does not answer: ${err instanceof Error ? err.message : String(err)}` +
        (kind === 'postgres' || kind === 'mariadb' ? ' (is `docker compose up -d --wait` running?)' : ''),
      kind,
      'exited',
    )
  }
  return new ExternalServer(kind, url)
}

/** ARBITER_TEST_PG_URL if set (options are then ignored), else a throwaway PostgreSQL. */
export async function postgresFromEnvOrStart(opts?: PostgresOptions): Promise<TestServer> {
  const url = envUrl('postgres')
  return url !== undefined ? externalServer('postgres', url) : startPostgres(opts)
}

/** ARBITER_TEST_MYSQL_URL if set (options are then ignored), else a throwaway MariaDB. */
export async function mariadbFromEnvOrStart(opts?: MariadbOptions): Promise<TestServer> {
  const url = envUrl('mariadb')
  return url !== undefined ? externalServer('mariadb', url) : startMariadb(opts)
}

/** ARBITER_TEST_REDIS_URL if set (options are then ignored), else a throwaway Redis. */
export async function redisFromEnvOrStart(opts?: RedisOptions): Promise<TestServer> {
  const url = envUrl('redis')
  return url !== undefined ? externalServer('redis', url) : startRedis(opts)
}
