// A throwaway PostgreSQL server: initdb into a temp folder, then `postgres`
// in the foreground (not pg_ctl) so kill() can SIGKILL the postmaster.
import { execFile, execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import pg from 'pg'
import { describeMissing, findPostgres, isMissing, postgresAccount } from './binaries.js'
import { ManagedServer, type StartOptions } from './managed.js'
import { HarnessStartError, type TestServer } from './types.js'

export interface PostgresOptions extends StartOptions {
  /**
   * max_prepared_transactions; default 100 (PostgreSQL's own default, 0,
   * forbids PREPARE TRANSACTION). A function is asked at every (re)start,
   * so a test can play the DBA who fixes the setting and restarts.
   */
  maxPreparedTransactions?: number | (() => number)
  /** Look for initdb and postgres only in this folder (default: /usr/lib/postgresql/<highest>/bin, then PATH). */
  binDir?: string
}

/** uid/gid to run PostgreSQL as: it refuses to run as root, so root uses the `postgres` account. */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const account = postgresAccount()
  if (account === undefined) {
    throw new HarnessStartError(
      'PostgreSQL cannot start: running as root and there is no `postgres` user to run it as (PostgreSQL refuses to run as root). ' +
        "Install the Debian package 'postgresql' (it creates the user) or run: useradd --system postgres",
      'postgres',
      'setup-failed',
    )
  }
  return account
}

function run(file: string, args: string[], opts: { uid?: number; gid?: number; env: NodeJS.ProcessEnv; timeout: number }): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { ...opts, encoding: 'utf8', maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${path.basename(file)} failed: ${err.message}\n${stdout}${stderr}`))
      else resolve(stdout + stderr)
    })
  })
}

/** Starts a throwaway PostgreSQL on a free port; resolves when `SELECT 1` works. */
export async function startPostgres(opts: PostgresOptions = {}): Promise<TestServer> {
  const bins = findPostgres(opts.binDir)
  if (isMissing(bins)) throw new HarnessStartError(`PostgreSQL cannot start: ${describeMissing(bins)}`, 'postgres', 'binary-missing')
  const user = runAs()
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-test-pg-'))
  const dataDir = path.join(dir, 'data')
  if (user !== undefined) fs.chownSync(dir, user.uid, user.gid)
  fs.chmodSync(dir, 0o700)
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' }
  const ids = user ?? {}
  try {
    // --no-sync: initdb's own files need no fsync for a throwaway cluster; the server runs with fsync=on.
    await run(bins.initdb, ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync', '--no-instructions'], {
      ...ids,
      env,
      timeout: 60_000,
    })
  } catch (err) {
    fs.rmSync(dir, { recursive: true, force: true })
    throw new HarnessStartError(`PostgreSQL cannot start: initdb (${bins.initdb}) failed in ${dataDir}: ${String(err)}`, 'postgres', 'setup-failed')
  }
  const realDataDir = fs.realpathSync(dataDir)
  const setting = opts.maxPreparedTransactions ?? 100
  const maxPrepared = (): number => (typeof setting === 'function' ? setting() : setting)
  const server = new ManagedServer(
    {
      kind: 'postgres',
      dir,
      url: (port) => `postgres://postgres@127.0.0.1:${port}/postgres`,
      spawn: (port) => ({
        command: bins.postgres,
        args: [
          '-D', dataDir,
          '-p', String(port),
          '-c', 'listen_addresses=127.0.0.1',
          '-c', `unix_socket_directories=${dir}`,
          '-c', `max_prepared_transactions=${maxPrepared()}`,
          '-c', 'max_connections=200',
          '-c', 'fsync=on',
        ],
        ...ids,
        env,
      }),
      probe: async (port, timeoutMs) => {
        const client = new pg.Client({
          host: '127.0.0.1',
          port,
          user: 'postgres',
          database: 'postgres',
          connectionTimeoutMillis: timeoutMs,
          query_timeout: timeoutMs,
        })
        client.on('error', () => undefined)
        try {
          await client.connect()
          const res = await client.query<{ data_directory: string }>('SHOW data_directory')
          const got = res.rows[0]?.data_directory
          if (got !== realDataDir && got !== dataDir) throw new Error(`port ${port} is answered by another PostgreSQL (data_directory ${got})`)
        } finally {
          await client.end().catch(() => undefined)
        }
      },
      // SIGINT = fast shutdown: active transactions roll back, prepared ones are kept.
      stopSignal: 'SIGINT',
      destroySignal: 'SIGQUIT',
      cleanupSync: () => removeSharedMemory(dataDir),
    },
    opts.startTimeoutMs,
  )
  await server.firstStart(opts)
  return server
}

/**
 * A SIGKILLed postmaster leaves its System V shared memory segment behind
 * (postmaster.pid line 7: key and id). Remove it so crash tests do not leak segments.
 */
function removeSharedMemory(dataDir: string): void {
  let text: string
  try {
    text = fs.readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8')
  } catch {
    return // clean shutdown removed it
  }
  const shmid = text.split('\n')[6]?.trim().split(/\s+/)[1]
  if (shmid === undefined || !/^\d+$/.test(shmid)) return
  try {
    execFileSync('ipcrm', ['-m', shmid], { stdio: 'ignore' })
  } catch {
    // already gone or still attached by a dying backend (then it goes when they exit)
  }
}
