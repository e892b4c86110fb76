// Issue #21, item 7: `arbiter admin` output that agrees with itself. The
// table and --json say the same things: another node's branch is OTHER_NODE
// in both (the proto had no such value, so JSON said UNSPECIFIED); what a
// resource did not tell is absent in JSON and "-" in the table, not 0
// (MariaDB has no prepared-transaction headroom); an operator's resolution
// is audit text in its own column, not a "last error".
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdapter } from '../../../adapters/create-adapter.js'
import type { ResourceAdapter, Xid } from '../../../adapters/types.js'
import { ARBITER_FORMAT_ID, newGtrid, xidFromParts, xidToString } from '../../../adapters/xid/xid.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { runAdminCli } from './cli.js'

const nodeId = `out${Math.random().toString(36).slice(2, 8)}`
let dbs: TestDatabases
let server: Awaited<ReturnType<typeof startTestArbiter>>
let pgAdapter: ResourceAdapter
const cli = (...args: string[]) => runAdminCli(['--address', server.address, ...args])

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'cliout')
  server = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    { nodeId, recovery: { intervalMs: 3_600_000, graceMs: 1000 } },
  )
  pgAdapter = createAdapter({ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 2 })
  await pgAdapter.init()
})

afterAll(async () => {
  await pgAdapter?.close()
  await server?.stopAndClean()
  await dbs?.close()
})

/** A prepared PostgreSQL branch whose gtrid names `owner` as its TM node. */
async function preparePgBranch(owner: string, id: number): Promise<{ xid: Xid; gtrid: string }> {
  const gtrid = newGtrid(owner)
  const xid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('b1'))
  const session = await pgAdapter.begin(xid)
  await session.execute('INSERT INTO accounts VALUES ($1, 1)', [{ kind: 'int', value: BigInt(id) }])
  expect((await session.prepare()).vote).toBe('prepared')
  await session.release()
  return { xid, gtrid }
}

const cells = (line: string | undefined): string[] => (line ?? '').split('│').slice(1, -1).map((c) => c.trim())
const rowOf = (table: string, first: string): string[] => cells(table.split('\n').find((l) => cells(l)[0] === first))

describe('resources', () => {
  it('MariaDB has no headroom: absent in JSON, "-" in the table; PostgreSQL has a number in both', async () => {
    const json = JSON.parse((await cli('resources', '--json')).stdout) as { resources: Record<string, unknown>[] }
    const maria = json.resources.find((r) => r.name === 'maria')!
    const pgr = json.resources.find((r) => r.name === 'pg')!
    expect(maria).not.toHaveProperty('preparedHeadroom')
    expect(Object.keys(maria).some((k) => k.startsWith('_'))).toBe(false) // no loader markers
    expect(maria).toMatchObject({ state: 'RESOURCE_STATE_READY', preparedBranches: expect.any(Number) })
    expect(pgr.preparedHeadroom).toEqual(expect.any(Number))

    const table = (await cli('resources')).stdout
    const header = cells(table.split('\n').find((l) => l.includes('HEADROOM')))
    const headroom = header.indexOf('HEADROOM')
    expect(rowOf(table, 'maria')[headroom]).toBe('-')
    // A number, not the same one: the PostgreSQL server is shared with tests that prepare branches meanwhile.
    expect(rowOf(table, 'pg')[headroom]).toMatch(/^\d+$/)
  })
})

describe('in-doubt', () => {
  it("another node's branch is OTHER_NODE in JSON and in the table, and left alone", async () => {
    const { xid } = await preparePgBranch('someothernode', 401)
    try {
      const text = xidToString(xid)
      const json = JSON.parse((await cli('in-doubt', '--json', '--resource', 'pg')).stdout) as { branches: Record<string, unknown>[] }
      expect(json.branches.find((b) => b.xid === text)).toMatchObject({ knowledge: 'LOG_KNOWLEDGE_OTHER_NODE', action: 'RECOVERY_ACTION_NONE', node: 'someothernode' })
      const row = rowOf((await cli('in-doubt', '--resource', 'pg')).stdout, 'pg')
      expect(row.slice(4)).toEqual(['OTHER_NODE', "left alone (TM node someothernode's: its own recovery finishes it)"])

      // Resolved here, even with force, it would never reach that node's log: refused, and still prepared.
      // Found by hostile testing: rolled back here, its node later committed the rest and said COMMITTED.
      const forced = await cli('resolve', '--resource', 'pg', '--xid', text, '--rollback', '--force', '--reason', 'its node looks dead')
      expect(forced.code).not.toBe(0)
      expect(forced.stderr).toMatch(/refused, even with force: .*TM node "someothernode"'s/)
      expect((await pgAdapter.recover()).some((b) => xidToString(b.xid) === text)).toBe(true)
    } finally {
      await pgAdapter.rollback(xid)
    }
  })

  it('a foreign MariaDB branch has no age: absent in JSON, "-" in the table', async () => {
    const tag = `age-${Math.random().toString(36).slice(2, 8)}`
    const conn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    await conn.query(`XA START '${tag}','b',1`)
    await conn.query('INSERT INTO accounts VALUES (403, 1)') // a branch that wrote nothing would be dropped at disconnect
    await conn.query(`XA END '${tag}','b',1`)
    await conn.query(`XA PREPARE '${tag}','b',1`)
    await conn.end()
    try {
      const json = JSON.parse((await cli('in-doubt', '--json', '--resource', 'maria')).stdout) as { branches: Record<string, unknown>[] }
      const listed = json.branches.find((b) => String(b.rawId).includes(Buffer.from(tag).toString('hex')))!
      expect(listed.knowledge).toBe('LOG_KNOWLEDGE_FOREIGN')
      expect(listed).not.toHaveProperty('ageMs')
      const table = (await cli('in-doubt', '--resource', 'maria')).stdout
      const line = table.split('\n').find((l) => l.includes(Buffer.from(tag).toString('hex')))
      expect(cells(line)[2]).toBe('-')
    } finally {
      await dbs.mysqlQuery(`XA ROLLBACK '${tag}','b',1`)
    }
  })
})

describe('show', () => {
  it("an operator's resolution is in its own column (RESOLVED) and field, not under LAST ERROR", async () => {
    const { xid, gtrid } = await preparePgBranch(nodeId, 402)
    const resolved = await cli('resolve', '--resource', 'pg', '--xid', xidToString(xid), '--rollback', '--reason', 'ticket 7: orphan')
    expect(resolved.code).toBe(0)
    const json = JSON.parse((await cli('show', '--json', gtrid)).stdout) as { branches: Record<string, unknown>[] }
    expect(json.branches[0]).toMatchObject({ lastError: '', resolution: expect.stringMatching(/^rolled back by anonymous \(auth off\).*: ticket 7: orphan$/) })
    const table = (await cli('show', gtrid)).stdout
    const header = cells(table.split('\n').find((l) => l.includes('LAST ERROR')))
    expect(header).toEqual(['RESOURCE', 'XID', 'MODE', 'STATE', 'ATTEMPTS', 'LAST ERROR', 'RESOLVED'])
    const row = cells(table.split('\n').find((l) => l.includes(xidToString(xid))))
    expect(row[5]).toBe('')
    expect(row[6]).toMatch(/^rolled back by anonymous/)
  })

  it('nodes on a node of its own: itself, at its bound address, on the file store', async () => {
    const json = JSON.parse((await cli('--json', 'nodes')).stdout) as { store: string; nodes: { nodeId: string; address: string; thisNode: boolean }[] }
    expect(json).toMatchObject({ store: 'file', nodes: [{ address: server.address, thisNode: true }] })
    const table = (await cli('nodes')).stdout
    expect(table).toContain('one node on its file log')
    expect(table).toContain(server.address)
  })
})
