// A throwaway MariaDB server: mariadb-install-db into a temp folder, then
// mariadbd in the foreground with a private socket and a free TCP port.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import mysql from 'mysql2/promise'
import { describeMissing, findMariadb, isMissing } from './binaries.js'
import { ManagedServer, type StartOptions } from './managed.js'
import { HarnessStartError, type TestServer } from './types.js'

export interface MariadbOptions extends StartOptions {
  /** Look for mariadbd and mariadb-install-db only in this folder (default: PATH, /usr/sbin, /usr/bin). */
  binDir?: string
}

/** Starts a throwaway MariaDB on a free port with an empty database `test`; resolves when `SELECT 1` works. */
export async function startMariadb(opts: MariadbOptions = {}): Promise<TestServer> {
  const bins = findMariadb(opts.binDir)
  if (isMissing(bins)) throw new HarnessStartError(`MariaDB cannot start: ${describeMissing(bins)}`, 'mariadb', 'binary-missing')
  const root = process.getuid?.() === 0
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-test-mariadb-'))
  const dataDir = path.join(dir, 'data')
  const common = ['--innodb-buffer-pool-size=64M', '--innodb-log-file-size=48M']
  try {
    await new Promise<void>((resolve, reject) => {
      execFile(
        bins.installDb,
        [
          '--no-defaults',
          `--datadir=${dataDir}`,
          '--auth-root-authentication-method=normal',
          '--skip-test-db',
          ...(root ? ['--user=root'] : []),
          ...common,
        ],
        { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stdout}${stderr}`)) : resolve()),
      )
    })
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw new HarnessStartError(`MariaDB cannot start: ${bins.installDb} failed in ${dataDir}: ${String(err)}`, 'mariadb', 'setup-failed')
  }
  const realDataDir = fs.realpathSync(dataDir)
  const connect = (port: number, timeoutMs: number, database?: string): Promise<mysql.Connection> =>
    mysql.createConnection({ host: '127.0.0.1', port, user: 'root', connectTimeout: timeoutMs, ...(database !== undefined ? { database } : {}) })
  const server = new ManagedServer(
    {
      kind: 'mariadb',
      dir,
      url: (port) => `mysql://root@127.0.0.1:${port}/test`,
      spawn: (port) => ({
        command: bins.mariadbd,
        args: [
          '--no-defaults',
          `--datadir=${dataDir}`,
          `--socket=${path.join(dir, 'mysql.sock')}`,
          `--pid-file=${path.join(dir, 'mariadbd.pid')}`,
          `--tmpdir=${dir}`,
          `--port=${port}`,
          '--bind-address=127.0.0.1',
          ...(root ? ['--user=root'] : []),
          '--innodb-flush-log-at-trx-commit=1',
          '--skip-name-resolve',
          '--max-connections=500',
          // Short lock waits: a test blocked on a lock fails in 5 s, not 50.
          '--innodb-lock-wait-timeout=5',
          ...common,
        ],
      }),
      probe: async (port, timeoutMs) => {
        const conn = await connect(port, timeoutMs)
        conn.on('error', () => undefined)
        try {
          const [rows] = await conn.query<mysql.RowDataPacket[]>({ sql: 'SELECT @@datadir AS d', timeout: timeoutMs })
          const got = String(rows[0]?.d ?? '').replace(/\/$/, '')
          if (got !== realDataDir && got !== dataDir) throw new Error(`port ${port} is answered by another MySQL/MariaDB (datadir ${got})`)
        } finally {
          conn.destroy()
        }
      },
      afterFirstStart: async (port) => {
        const conn = await connect(port, 5000)
        try {
          await conn.query('CREATE DATABASE IF NOT EXISTS test')
        } finally {
          await conn.end()
        }
      },
      stopSignal: 'SIGTERM',
    },
    opts.startTimeoutMs,
  )
  await server.firstStart(opts)
  return server
}
