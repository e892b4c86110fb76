// A server that stops answering (SIGSTOP) must give a retryable AdapterError
// within a bounded time, never hang.
import { describe, expect, it } from 'vitest'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import { RedisAdapter } from '../../../adapters/redis/redis-adapter.js'
import { AdapterError } from '../../../adapters/types.js'
import type { ResourceAdapter } from '../../../adapters/types.js'
import { makeXid, newGtrid } from '../../../adapters/xid/xid.js'
import { startMariadb, startPostgres, startRedis } from '../../harness/index.js'
import type { TestServer } from '../../harness/index.js'

async function check(srv: TestServer, adapter: ResourceAdapter): Promise<void> {
  try {
    await adapter.init()
    await adapter.recover() // leaves an idle pooled connection behind
    await srv.pause()
    const t0 = Date.now()
    let answered: unknown
    const err = await adapter.commit(makeXid(newGtrid('paused'), 'b')).then(
      (outcome) => void (answered = outcome),
      (e: unknown) => e,
    )
    expect(err, `a paused server answered commit with ${String(answered)}`).toBeInstanceOf(AdapterError)
    expect((err as AdapterError).errorClass).toBe('retryable')
    expect(Date.now() - t0).toBeLessThan(5000)
    await srv.resume()
  } finally {
    await adapter.close()
    await srv.destroy()
  }
}

describe('paused servers', () => {
  it('PostgreSQL', async () => {
    const srv = await startPostgres()
    await check(srv, new PostgresAdapter({ name: 'p', kind: 'postgres', url: srv.url, connectTimeoutMs: 1000 }, { commandTimeoutMs: 1500 }))
  })
  it('MariaDB', async () => {
    const srv = await startMariadb()
    await check(srv, new MysqlAdapter({ name: 'm', kind: 'mysql', url: srv.url, connectTimeoutMs: 1000 }, { commandTimeoutMs: 1500 }))
  })
  it('Redis', async () => {
    const srv = await startRedis()
    await check(srv, new RedisAdapter({ name: 'r', kind: 'redis', url: srv.url, connectTimeoutMs: 1000 }, { commandTimeoutMs: 1500 }))
  })
})
