// A node of a test cluster on a shared PostgreSQL store, on the test's own
// databases: the config every cluster test starts its nodes with.
import type { ArbiterConfigInput } from '../../server/config.js'
import type { TestDatabases } from './databases.js'
import { testConfig } from './test-arbiter.js'

export interface ClusterNodeOptions {
  readonly leaseMs: number
  readonly takeoverIntervalMs?: number
  /** Its MariaDB resource: the test's (default), one nothing answers at (port 1), or none. */
  readonly maria?: 'real' | 'unreachable' | 'none'
}

export function clusterNodeConfig(dbs: TestDatabases, storeUrl: string, o: ClusterNodeOptions): ArbiterConfigInput {
  const maria = o.maria ?? 'real'
  return testConfig(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      ...(maria === 'none' ? [] : [{ name: 'maria', kind: 'mysql' as const, url: maria === 'real' ? dbs.mysqlUrl : 'mysql://root@127.0.0.1:1/x' }]),
    ],
    { log: { store: 'postgres', url: storeUrl }, cluster: { leaseMs: o.leaseMs, takeoverIntervalMs: o.takeoverIntervalMs ?? 300 } },
  )
}
