// Found by hostile testing of the Python client (examples/python/): a local
// PostgreSQL branch whose block the application ended itself (its own COMMIT
// or ROLLBACK, conn.commit() after setting autocommit = False) and maybe
// re-opened. Before, prepare saw a block (status 2) and prepared the second
// one, so the caller was told "committed" while the first half had
// committed on its own; and a block that raised after ending the branch was
// "rolled back" silently. Now, as in the TypeScript client, the branch's
// block carries a mark (SET LOCAL arbiter.branch) checked in PREPARE's and
// ROLLBACK's round trip: a branch found ended by the application raises
// HeuristicOutcomeError (its cause the application's exception), nothing of
// the other block is prepared, and what the application committed stays.
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { byCase, PythonFixtures, skipPython, type PyRecord } from './python-run.js'

const TOKEN = 'python-escape-token-0123456789'

describe.skipIf(skipPython())('Python client: a local branch the application ended itself', () => {
  let py: PythonFixtures
  let pgUrl: string
  let pool: pg.Pool
  let otherUrl: string
  let other: pg.Pool
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let cases: Record<string, PyRecord>

  beforeAll(async () => {
    py = PythonFixtures.build()
    pgUrl = await createDatabase(sharedServerUrls().pgUrl, 'pyescape')
    pool = new pg.Pool({ connectionString: pgUrl, max: 2 })
    await pool.query('CREATE TABLE escape_rows (k text PRIMARY KEY)')
    otherUrl = await createDatabase(sharedServerUrls().pgUrl, 'pyescapeother')
    other = new pg.Pool({ connectionString: otherUrl, max: 1 })
    await other.query('CREATE TABLE escape_rows (k text PRIMARY KEY)')
    arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: pgUrl, poolSize: 4 }], {
      auth: { tokens: [{ name: 'app', role: 'application', token: TOKEN }] },
    })
    cases = byCase(await py.run('local_escape.py', ['--address', arbiter.address, '--token', TOKEN, '--pg-url', pgUrl, '--other-pg-url', otherUrl]))
  })

  afterAll(async () => {
    await arbiter?.stopAndClean()
    await pool?.end()
    await other?.end()
    py?.remove()
  })

  async function rowsOf(name: string): Promise<string[]> {
    const { rows } = await pool.query<{ k: string }>('SELECT k FROM escape_rows WHERE k LIKE $1 ORDER BY k', [`${name}:%`])
    return rows.map((r) => r.k)
  }

  const MIXED = /^transaction \S+ has a mixed outcome: the local branch on "pg" was ended by a statement of the application's own on its enlisted connection \(COMMIT or ROLLBACK\)/

  it('a block re-opened after the app committed the branch is never prepared: mixed outcome, the second block rolled back', async () => {
    for (const name of ['commit-then-begin', 'autocommit-off']) {
      expect(cases[name], name).toMatchObject({ raised: 'HeuristicOutcomeError', code: 'TM_HEURISTIC_MIXED' })
      expect(cases[name]!.message).toMatch(MIXED)
      expect(cases[name]!.message).toMatch(/Do not retry: check that resource$/)
    }
    // What the app committed stays; the block it began afterwards was not the branch's, and was rolled back.
    expect(await rowsOf('commit-then-begin')).toEqual(['commit-then-begin:1'])
    expect(await rowsOf('autocommit-off')).toEqual(['autocommit-off:1', 'autocommit-off:2'])
    const { rows } = await pool.query('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')
    expect(rows).toEqual([])
  })

  it("an exception after the app ended the branch (COMMIT, ROLLBACK, a re-opened block) is a mixed outcome caused by the app's exception", async () => {
    for (const name of ['reopened-then-raise', 'commit-then-raise', 'rollback-then-raise']) {
      expect(cases[name], name).toMatchObject({ raised: 'HeuristicOutcomeError', code: 'TM_HEURISTIC_MIXED', cause: 'AppFailed' })
      expect(cases[name]!.message).toMatch(/before the transaction rolled back: its writes may be committed while the rest is rolled back\. Do not retry: check that resource$/)
    }
    expect(await rowsOf('reopened-then-raise')).toEqual(['reopened-then-raise:1'])
    expect(await rowsOf('commit-then-raise')).toEqual(['commit-then-raise:1'])
    expect(await rowsOf('rollback-then-raise')).toEqual([])
  })

  it('a branch found ended by the app while another branch voted no makes the rollback a mixed outcome', async () => {
    expect(cases['other-votes-no']).toMatchObject({ raised: 'HeuristicOutcomeError', code: 'TM_HEURISTIC_MIXED', cause: 'VoteNo' })
    expect(cases['other-votes-no']!.message).toMatch(MIXED)
    expect(await rowsOf('other-votes-no')).toEqual(['other-votes-no:1'])
  })

  it("the branch's own block, untouched or aborted, still rolls back or commits as before", async () => {
    expect(cases['plain-raise']).toMatchObject({ raised: 'AppFailed' })
    expect(cases['aborted-then-raise']).toMatchObject({ raised: 'AppFailed' })
    expect(cases['plain-commit']).toMatchObject({ raised: null })
    expect(await rowsOf('plain-raise')).toEqual([])
    expect(await rowsOf('aborted-then-raise')).toEqual([])
    expect(await rowsOf('plain-commit')).toEqual(['plain-commit:1'])
  })

  it('a connection to another database than the resource reaches is refused before any decision, its branch rolled back', async () => {
    // As in the TypeScript client: had the application died at commit, phase 2 by XID could never have reached it.
    expect(cases['another-database']).toMatchObject({ raised: 'InvalidArgumentError' })
    expect(cases['another-database']!.message).toMatch(/was prepared on postgres:\d+\/pyescapeother_\w+, but resource "pg" reaches postgres:\d+\/pyescape_\w+/)
    expect((await other.query('SELECT k FROM escape_rows')).rows).toEqual([])
    expect((await other.query('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')).rows).toEqual([])
  })

  it('RESET ALL inside the branch keeps it the branch: committed, or the app\'s own exception (not a mixed outcome)', async () => {
    // Found by hostile testing: RESET ALL cleared the mark, and both were told a mixed outcome, "do not retry".
    expect(cases['reset-all-then-commit']).toMatchObject({ raised: null })
    expect(cases['reset-all-then-raise']).toMatchObject({ raised: 'AppFailed' })
    expect(await rowsOf('reset-all-then-commit')).toEqual(['reset-all-then-commit:1'])
    expect(await rowsOf('reset-all-then-raise')).toEqual([])
  })
})
