// A careless application's misuse of the Python client (examples/python/),
// found by hostile testing, each once told a wrong outcome or left a branch:
// - tx.commit() inside the block (the block's end commits again): committed
//   data was told "rolled back" (MariaDB) or "mixed" (PostgreSQL);
// - tx.rollback() inside the block, then its normal end: a clean rollback
//   was told "mixed";
// - enlisting a connection in a block of the application's own, or held by
//   another transaction: the client's cleanup sent ROLLBACK on it, losing the
//   application's own work or the other transaction's branch;
// - the client closed while a transaction was in its block: Commit raised a
//   bare ValueError, and the prepared MariaDB branch stayed, holding its
//   locks, for as long as the application's connection lived.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { byCase, PythonFixtures, skipPython, type PyRecord } from './python-run.js'

type Raised = { cls: string; msg: string } | null

describe.skipIf(skipPython())('Python client: a careless application', () => {
  let py: PythonFixtures
  let dbs: TestDatabases
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let cases: Record<string, PyRecord>

  beforeAll(async () => {
    py = PythonFixtures.build()
    dbs = await createTestDatabases(sharedServerUrls(), 'pymisuse')
    arbiter = await startTestArbiter([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 4 },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl, poolSize: 4 },
    ])
    cases = byCase(await py.run('client_misuse.py', ['--address', arbiter.address, '--pg', dbs.pgUrl, '--mysql', dbs.mysqlUrl], 90_000))
  })
  afterAll(async () => {
    await arbiter?.stopAndClean()
    await dbs?.close()
    py?.remove()
  })

  const rows = async (id: number) => ({
    pg: (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [id])).length,
    maria: (await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [id])).length,
  })

  it('tx.commit() inside the block: committed, and the second commit at the block end changes nothing', async () => {
    for (const name of ['commit-twice-mysql', 'commit-twice-pg']) {
      expect(cases[name]!.raised, name).toBeNull()
      // Decided; the TM may still wait for the completion report of the local branch (COMMITTING).
      expect(['TRANSACTION_STATE_COMMITTING', 'TRANSACTION_STATE_COMMITTED'], name).toContain(cases[name]!.tm_state)
    }
    expect(await rows(101)).toEqual({ pg: 0, maria: 1 })
    expect(await rows(102)).toEqual({ pg: 1, maria: 0 })
  })

  it('tx.rollback() inside the block: rolled back, told so (TransactionAbortedError), never "mixed"', async () => {
    expect((cases['rollback-then-end']!.raised as Raised)?.cls).toBe('TransactionAbortedError')
    expect(cases['rollback-then-end']!.tm_state).toBe('TRANSACTION_STATE_ROLLED_BACK')
    expect(await rows(120)).toEqual({ pg: 0, maria: 0 })
  })

  it("a connection in the application's own block is refused untouched: its own work commits", async () => {
    const r = cases['enlist-in-own-block']!
    expect((r.raised as Raised)?.cls).toBe('IllegalStateError')
    expect((r.raised as Raised)?.msg).toMatch(/the connection is in a transaction of its own/)
    expect(r.status_after).toBe(2) // still in the application's block, not rolled back
    expect(await rows(104)).toEqual({ pg: 1, maria: 0 })
  })

  it('a connection held by another transaction is refused untouched: that transaction commits', async () => {
    const r = cases['enlist-in-two']!
    expect((r.second as Raised)?.cls).toBe('IllegalStateError')
    expect(r.status_mid).toBe(2)
    expect(r.raised).toBeNull()
    expect(await rows(105)).toEqual({ pg: 1, maria: 1 })
  })

  it('the client closed in the block: an ArbiterError, and no branch left prepared on the live connection', () => {
    const r = cases['closed-in-block']!
    expect((r.raised as Raised)?.cls).toBe('IllegalStateError')
    expect((r.raised as Raised)?.msg).toMatch(/the client is closed, nothing was sent/)
    expect(r.xa_left).toEqual([])
    expect(['TRANSACTION_STATE_ACTIVE', 'TRANSACTION_STATE_ROLLED_BACK']).toContain(r.tm_state)
  })
})
