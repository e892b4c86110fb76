// The TM the Admin tests run against, in this process (so a test can read its
// decision log), on real PostgreSQL and MariaDB, with tokens on and the
// periodic recovery pass off (1 h interval): only `recover` runs it, so every
// step a test expects is one the test asked for. Orphans and decided-but-
// unfinished branches are made with the adapters directly, with this TM's
// node id, the way a crashed commit leaves them. setupAdminEnv() registers
// the hooks; the bindings below are live once beforeAll has run.
import { Metadata } from '@grpc/grpc-js'
import { afterAll, beforeAll, expect } from 'vitest'
import { createAdapter } from '../../../adapters/create-adapter.js'
import type { ResourceAdapter, Xid } from '../../../adapters/types.js'
import { ARBITER_FORMAT_ID, newGtrid, xidFromParts, xidToPgGid } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { runAdminCli } from './cli.js'

export const APP_TOKEN = 'shop-token-0123456789abcdef'
export const ADMIN_TOKEN = 'ops-token-0123456789abcdef'
export const nodeId = `adm${Math.random().toString(36).slice(2, 8)}`

export let dbs: TestDatabases
export let server: Awaited<ReturnType<typeof startTestArbiter>>
export let pgAdapter: ResourceAdapter
/** `arbiter admin --address <this TM> …` with the admin token. */
export let cli: (...args: string[]) => ReturnType<typeof runAdminCli>

export function bearer(token: string): Metadata {
  const md = new Metadata()
  md.set('authorization', `Bearer ${token}`)
  return md
}

/** A prepared PostgreSQL branch of this TM with no decision: what a TM crash before the commit point leaves. */
export async function preparePgBranch(id: number): Promise<{ xid: Xid; gtrid: string }> {
  const gtrid = newGtrid(nodeId)
  const xid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('b1'))
  const session = await pgAdapter.begin(xid)
  await session.execute('INSERT INTO accounts VALUES ($1, 1)', [{ kind: 'int', value: BigInt(id) }])
  expect((await session.prepare()).vote).toBe('prepared')
  await session.release()
  return { xid, gtrid }
}

export async function pgPrepared(xid: Xid): Promise<boolean> {
  return (await dbs.pgQuery('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [xidToPgGid(xid)])).length === 1
}

export async function pgRow(id: number): Promise<boolean> {
  return (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length === 1
}

/** Starts the TM and its databases (named after `prefix`) before the file's tests, and stops them after. */
export function setupAdminEnv(prefix: string): void {
  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), prefix)
    server = await startTestArbiter(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      {
        nodeId,
        recovery: { intervalMs: 3_600_000, graceMs: 1000 },
        admin: { stuckAfterMs: 500 },
        auth: {
          tokens: [
            { name: 'shop', role: 'application', token: APP_TOKEN },
            { name: 'ops', role: 'admin', token: ADMIN_TOKEN },
          ],
        },
      },
    )
    pgAdapter = createAdapter({ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 2 })
    await pgAdapter.init()
    cli = (...args: string[]) => runAdminCli(['--address', server.address, ...args], { ARBITER_ADMIN_TOKEN: ADMIN_TOKEN })
  })

  afterAll(async () => {
    await pgAdapter?.close()
    await server?.stopAndClean()
    await dbs?.close()
  })
}
