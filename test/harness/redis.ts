// A throwaway Redis server with append-only persistence, so restart() keeps data.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describeMissing, findRedis, isMissing } from './binaries.js'
import { probeClient } from './database.js'
import { ManagedServer, type StartOptions } from './managed.js'
import { HarnessStartError, type TestServer } from './types.js'

export interface RedisOptions extends StartOptions {
  /** AOF fsync policy; default 'always' (every write is durable before the reply). */
  appendfsync?: 'always' | 'everysec' | 'no'
  /** Look for redis-server only in this folder (default: PATH, /usr/bin). */
  binDir?: string
}

/** Starts a throwaway Redis on a free port; resolves when PING answers. */
export async function startRedis(opts: RedisOptions = {}): Promise<TestServer> {
  const bins = findRedis(opts.binDir)
  if (isMissing(bins)) throw new HarnessStartError(`Redis cannot start: ${describeMissing(bins)}`, 'redis', 'binary-missing')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'arbiter-test-redis-'))
  const realDir = fs.realpathSync(dir)
  const server = new ManagedServer(
    {
      kind: 'redis',
      dir,
      url: (port) => `redis://127.0.0.1:${port}`,
      spawn: (port) => ({
        command: bins.redisServer,
        args: [
          '--port', String(port),
          '--bind', '127.0.0.1',
          '--dir', dir,
          '--save', '',
          '--appendonly', 'yes',
          '--appendfsync', opts.appendfsync ?? 'always',
          '--daemonize', 'no',
          '--logfile', '',
          '--protected-mode', 'no',
        ],
      }),
      probe: async (port, timeoutMs) => {
        const client = probeClient({ host: '127.0.0.1', port }, timeoutMs)
        try {
          await client.connect()
          await client.ping()
          const dirReply: unknown = await client.config('GET', 'dir')
          const got = Array.isArray(dirReply) ? String(dirReply[1]) : String(dirReply)
          if (got !== realDir && got !== dir) throw new Error(`port ${port} is answered by another Redis (dir ${got})`)
        } finally {
          client.disconnect()
        }
      },
      // SIGTERM: Redis fsyncs the AOF and exits.
      stopSignal: 'SIGTERM',
    },
    opts.startTimeoutMs,
  )
  await server.firstStart(opts)
  return server
}
