// One factory for the TM's config: a ResourceConfig → its adapter.
import { MysqlAdapter } from './mysql/mysql-adapter.js'
import { PostgresAdapter } from './postgres/postgres-adapter.js'
import { RedisAdapter } from './redis/redis-adapter.js'
import { AdapterError } from './types.js'
import type { ResourceAdapter, ResourceConfig } from './types.js'

/** The adapter for a resource (not yet connected: call init()). */
export function createAdapter(config: ResourceConfig): ResourceAdapter {
  switch (config.kind) {
    case 'postgres':
      return new PostgresAdapter(config)
    case 'mysql':
      return new MysqlAdapter(config)
    case 'redis':
      return new RedisAdapter(config)
    default:
      throw new AdapterError('fatal', String((config as { name?: unknown }).name), `unknown resource kind ${JSON.stringify((config as { kind?: unknown }).kind)}`)
  }
}
