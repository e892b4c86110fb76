/** The kinds of database server the harness can start or accept by URL. */
export type ServerKind = 'postgres' | 'mariadb' | 'redis'

/** One database server for tests: either started by the harness (controllable) or given by an env URL (external). */
export interface TestServer {
  readonly kind: ServerKind
  /** Superuser URL: postgres://postgres@127.0.0.1:PORT/postgres ; mysql://root@127.0.0.1:PORT/test ; redis://127.0.0.1:PORT */
  readonly url: string
  readonly port: number
  /**
   * True when the server came from an env URL (ARBITER_TEST_PG_URL / ARBITER_TEST_MYSQL_URL /
   * ARBITER_TEST_REDIS_URL); then stop/kill/pause/resume/restart throw a HarnessUnsupportedError
   * whose message says why, and `controllable` is false.
   */
  readonly external: boolean
  readonly controllable: boolean
  /** Pid of the server's main process (postmaster, mariadbd, redis-server) while it runs; undefined when stopped or external. */
  readonly pid: number | undefined
  /** Clean shutdown, data kept. */
  stop(): Promise<void>
  /** SIGKILL to the whole server (its process group: postmaster and every backend); resolves once all of it is gone. */
  kill(): Promise<void>
  /** SIGSTOP to the whole server process group: connections stay open but nothing answers. */
  pause(): Promise<void>
  /** SIGCONT to the whole server process group. */
  resume(): Promise<void>
  /** (Stop if running, then) start again with the same port and data folder; resolves when it answers queries. */
  restart(): Promise<void>
  /** Stop and delete its temp folder (no-op for external servers). Safe to call twice. */
  destroy(): Promise<void>
}

/** Thrown by the control methods of an external (env URL) server. */
export class HarnessUnsupportedError extends Error {
  override name = 'HarnessUnsupportedError'
}

/** Thrown when a server cannot be started; the message names the server, the cause and the log tail. */
export class HarnessStartError extends Error {
  override name = 'HarnessStartError'
  constructor(
    message: string,
    readonly kind: ServerKind,
    readonly reason: 'binary-missing' | 'port-in-use' | 'exited' | 'timeout' | 'setup-failed',
  ) {
    super(message)
  }
}

/** Env variable that points tests at an already running server of each kind. */
export const ENV_URL: Readonly<Record<ServerKind, string>> = {
  postgres: 'ARBITER_TEST_PG_URL',
  mariadb: 'ARBITER_TEST_MYSQL_URL',
  redis: 'ARBITER_TEST_REDIS_URL',
}

export const PRETTY: Readonly<Record<ServerKind, string>> = {
  postgres: 'PostgreSQL',
  mariadb: 'MariaDB',
  redis: 'Redis',
}
