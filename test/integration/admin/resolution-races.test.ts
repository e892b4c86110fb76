// An operator's resolution racing another actor on the same prepared branch:
// recovery's presumed abort, a second operator, a DBA finishing it by hand.
// Found by hostile testing: each actor judged the branch and then acted, so
// the one that came second found it finished by the other and answered that
// as its own success — an operator was told "commit: already done" for a
// branch recovery had just rolled back (and `show` said COMMITTED), and two
// operators were both answered OK for opposite resolutions. A fail point
// holds the resolution between its judgement and its log write, where the
// other actor slipped in.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createAdapter } from '../../../adapters/create-adapter.js'
import type { ResourceAdapter, Xid } from '../../../adapters/types.js'
import { ARBITER_FORMAT_ID, newGtrid, xidFromParts, xidToPgGid } from '../../../adapters/xid/xid.js'
import { ALREADY_FINISHED } from '../../../server/admin/resolve-branch.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { adminClient } from '../../helpers/tm-client.js'

const HELD_MS = 1_500

describe('a resolution racing another actor on its branch', () => {
  let dbs: TestDatabases
  let tm: ArbiterProcess
  let pg: ResourceAdapter
  let nodeId = ''
  let id = 0

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), 'resrace')
    // No recovery pass of its own during a test (only RunRecovery's), and no grace for orphans.
    const config = testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], { recovery: { intervalMs: 3_600_000, graceMs: 0 } })
    nodeId = config.nodeId!
    tm = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: `before-resolution=sleep:${HELD_MS}` })
    pg = createAdapter({ name: 'pg', kind: 'postgres', url: dbs.pgUrl, poolSize: 2 })
    await pg.init()
  })
  afterAll(async () => {
    await pg?.close()
    await tm?.destroy()
    await dbs?.close()
  })

  /** A prepared branch of this node with no decision (its TM "died" before deciding), named before the TM started: recovery presumes it aborted at once. */
  async function orphan(): Promise<{ n: number; gtrid: string; xid: Xid }> {
    const n = ++id
    const gtrid = newGtrid(nodeId, Date.now() - 600_000)
    const xid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('b1'))
    const session = await pg.begin(xid)
    await session.execute('INSERT INTO accounts VALUES ($1, 1)', [{ kind: 'int', value: BigInt(n) }])
    await session.prepare()
    await session.release()
    return { n, gtrid, xid }
  }

  async function resolve(xid: Xid, resolution: 'RESOLUTION_COMMIT' | 'RESOLUTION_ROLLBACK', force: boolean): Promise<{ result?: string; error?: string }> {
    const { admin, close } = adminClient(tm.address)
    try {
      const answer = await admin.ResolveBranch({ resource: 'pg', xid: { formatId: xid.formatId, gtrid: xid.gtrid, bqual: xid.bqual }, resolution, reason: 'race', force })
      return { result: answer.steps.map((s: { result: string }) => s.result).join(',') }
    } catch (error) {
      return { error: (error as { details?: string }).details ?? String(error) }
    } finally {
      close()
    }
  }

  async function runRecovery() {
    const { admin, close } = adminClient(tm.address)
    try {
      return await admin.RunRecovery({ resource: 'pg' })
    } finally {
      close()
    }
  }

  async function shownBranchState(gtrid: string): Promise<string | undefined> {
    const { admin, close } = adminClient(tm.address)
    try {
      return (await admin.GetTransaction({ gtrid })).branches?.[0]?.state
    } finally {
      close()
    }
  }

  const committed = async (n: number): Promise<boolean> => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [n])).length === 1
  const later = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

  it('a forced commit and recovery\'s presumed abort take turns: the operator is told what happened, and show agrees', async () => {
    const o = await orphan()
    const resolution = resolve(o.xid, 'RESOLUTION_COMMIT', true)
    await later(300) // the resolution has judged the branch and waits at the fail point
    const recovery = await runRecovery()
    const answer = await resolution
    // The resolution came first: it commits, and recovery then finds it resolved (not presumed aborted).
    expect(answer).toEqual({ result: 'done' })
    expect(await committed(o.n)).toBe(true)
    expect(recovery.steps.filter((s: { action: string }) => s.action === 'rollback')).toEqual([])
    expect(await shownBranchState(o.gtrid)).toBe('BRANCH_STATE_COMMITTED')
    expect((await dbs.preparedLeft(nodeId)).pg).toEqual([])
  })

  it('two operators resolving one branch opposite ways: only one of them is answered OK, and it is what happened', async () => {
    const o = await orphan()
    const first = resolve(o.xid, 'RESOLUTION_COMMIT', true)
    await later(300)
    const second = await resolve(o.xid, 'RESOLUTION_ROLLBACK', false)
    expect(await first).toEqual({ result: 'done' })
    // The second judged what the first left: the branch committed (no longer prepared), or its resolution logged.
    expect(second.result).toBeUndefined()
    expect(second.error).toMatch(/not prepared|reverses the resolution/)
    expect(await committed(o.n)).toBe(true)
  })

  it('a branch finished by hand (a DBA) between the judgement and the action is reported as not carried out, never as done', async () => {
    const o = await orphan()
    const resolution = resolve(o.xid, 'RESOLUTION_COMMIT', true)
    await later(300)
    await dbs.pgQuery(`ROLLBACK PREPARED '${xidToPgGid(o.xid)}'`)
    const answer = await resolution
    expect(answer).toEqual({ result: ALREADY_FINISHED })
    expect(await committed(o.n)).toBe(false)
  })
})
