// The Admin service and the `arbiter admin` CLI (admin-env.ts: the TM they
// run against): resolving prepared branches by hand, and what recovery does
// with a logged resolution. Split from admin-service.test.ts.
import { status } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { xidToString } from '../../../adapters/xid/xid.js'
import { adminClient, grpcError } from '../../helpers/tm-client.js'
import { ADMIN_TOKEN, bearer, cli, pgPrepared, pgRow, preparePgBranch, server, setupAdminEnv } from './admin-env.js'

setupAdminEnv('adminres')

describe('resolve', () => {
  it("a client's Commit arriving while an operator's rollback is being logged is refused: the transaction is claimed before the log write", async () => {
    // Found by hostile testing: judged not in progress, the resolution was logged (an fsync), and a
    // client-named Commit that came in meanwhile began the transaction and committed it over the branch.
    const { xid, gtrid } = await preparePgBranch(305)
    const log = server.log
    const appendResolution = log.appendResolution.bind(log)
    let entered!: () => void
    const inWrite = new Promise<void>((resolve) => (entered = resolve))
    let letGo!: () => void
    const gate = new Promise<void>((resolve) => (letGo = resolve))
    log.appendResolution = async (record) => {
      entered()
      await gate
      return appendResolution(record)
    }
    try {
      const resolving = cli('resolve', '--resource', 'pg', '--xid', xidToString(xid), '--rollback', '--reason', 'abandoned, it seems')
      await inWrite
      const late = server.coordinator.commit(gtrid, [], 'applied', { tmInstance: server.coordinator.instance })
      await expect(late).rejects.toThrow(/presumed abort/)
      letGo()
      const out = await resolving
      expect(out.code).toBe(0)
      expect(out.stdout).toMatch(/rollback\s*│\s*done/)
    } finally {
      log.appendResolution = appendResolution
      letGo()
    }
    expect(await pgPrepared(xid)).toBe(false)
    expect(await pgRow(305)).toBe(false)
  })

  it('rolls back a branch by hand; the log records who and why; recovery leaves it alone', async () => {
    const { xid, gtrid } = await preparePgBranch(301)
    const reason = 'orphan of the 3 am incident'
    const out = await cli('resolve', '--resource', 'pg', '--xid', xidToString(xid), '--rollback', '--reason', reason)
    expect(out.code).toBe(0)
    expect(out.stdout).toMatch(/rollback\s*│\s*done/)
    expect(out.stdout).not.toContain('HEURISTIC')
    expect(await pgPrepared(xid)).toBe(false)
    expect(server.log.get(gtrid)?.resolutions).toEqual([
      expect.objectContaining({ resource: 'pg', bqual: Buffer.from('b1').toString('hex'), action: 'rollback', operator: 'ops', reason, heuristic: false }),
    ])
    // Had a client named this transaction itself, its late Commit could not begin it over the rolled-back branch.
    const late = server.coordinator.commit(gtrid, [], 'applied', { tmInstance: server.coordinator.instance })
    await expect(late).rejects.toThrow(/presumed abort/)
    await cli('recover')
    expect(await pgRow(301)).toBe(false)
    // Nothing of it is prepared any more: the pass ends it in the log, so its record no longer pins a segment.
    expect(server.log.get(gtrid)).toMatchObject({ ended: true })
    expect(server.log.unfinished().map((t) => t.gtrid)).not.toContain(gtrid)
    const shown = JSON.parse((await cli('show', '--json', gtrid)).stdout) // known from the log only
    expect(shown.state).toBe('TRANSACTION_STATE_ROLLED_BACK')
  })

  it('a reason is required', async () => {
    const { xid, gtrid } = await preparePgBranch(302)
    const { admin, close } = adminClient(server.address)
    const error = await grpcError(
      admin.ResolveBranch({ resource: 'pg', xid, resolution: 'RESOLUTION_ROLLBACK', reason: '  ' }, bearer(ADMIN_TOKEN)),
    )
    expect(error.code).toBe(status.INVALID_ARGUMENT)
    await admin.ResolveBranch({ gtrid, resolution: 'RESOLUTION_ROLLBACK', reason: 'cleanup' }, bearer(ADMIN_TOKEN))
    close()
  })

  it('committing a branch with no decision contradicts presumed abort: refused, then forced as heuristic', async () => {
    const { xid, gtrid } = await preparePgBranch(303)
    const refused = await cli('resolve', '--gtrid', gtrid, '--commit', '--reason', 'customer paid')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/FAILED_PRECONDITION.*presumed abort/)
    expect(server.log.get(gtrid)).toBeUndefined() // nothing logged for a refusal
    expect(await pgPrepared(xid)).toBe(true)
    const forced = await cli('resolve', '--gtrid', gtrid, '--commit', '--reason', 'customer paid', '--force', '--json')
    expect(forced.code).toBe(0)
    const res = JSON.parse(forced.stdout)
    expect(res.heuristic).toBe(true)
    expect(res.steps).toEqual([{ resource: 'pg', xid: xidToString(xid), action: 'RECOVERY_ACTION_COMMIT', result: 'done' }])
    expect(await pgRow(303)).toBe(true)
    expect(server.log.get(gtrid)?.resolutions[0]).toMatchObject({ action: 'commit', heuristic: true, operator: 'ops', reason: 'customer paid' })
    expect(JSON.parse((await cli('show', '--json', gtrid)).stdout).state).toBe('TRANSACTION_STATE_HEURISTIC')
  })

  it('a decided branch: "will commit", stuck; its rollback is refused without --force and heuristic with it', async () => {
    // A decision logged and not yet carried out (recovery has not adopted it: the periodic pass is off).
    const { xid, gtrid } = await preparePgBranch(304)
    await server.log.appendDecision(gtrid, [{ resource: 'pg', bqual: xid.bqual.toString('hex') }])
    const inDoubt = await cli('in-doubt', '--resource', 'pg')
    expect(inDoubt.stdout).toMatch(new RegExp(`${gtrid}.*COMMITTED\\s*│\\s*will commit`))
    await new Promise((resolve) => setTimeout(resolve, 600)) // past admin.stuckAfterMs (500 ms here)
    const listed = await cli('transactions', '--state', 'COMMITTING')
    expect(listed.stdout).toMatch(new RegExp(`${gtrid}\\s*│[^│]*│\\s*COMMITTING.*STUCK`))

    const refused = await cli('resolve', '--resource', 'pg', '--xid', xidToString(xid), '--rollback', '--reason', 'bad data')
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/FAILED_PRECONDITION.*contradicts the logged COMMIT decision/)
    expect(await pgPrepared(xid)).toBe(true)

    const forced = await cli('resolve', '--resource', 'pg', '--xid', xidToString(xid), '--rollback', '--reason', 'bad data', '--force')
    expect(forced.code).toBe(0)
    expect(forced.stdout).toContain('HEURISTIC')
    expect(await pgPrepared(xid)).toBe(false)
    expect(await pgRow(304)).toBe(false)
    // Recovery adopts the decision, sees the resolution, and does not commit the branch again.
    await cli('recover')
    await expect.poll(async () => JSON.parse((await cli('show', '--json', gtrid)).stdout).state, { timeout: 10_000 }).toBe('TRANSACTION_STATE_HEURISTIC')
    const table = await cli('transactions', '--state', 'HEURISTIC')
    expect(table.stdout).toMatch(new RegExp(`${gtrid}\\s*│[^│]*│\\s*HEURISTIC.*HEURISTIC`))
    expect(await pgRow(304)).toBe(false)
  })

  it('recovery carries out a logged resolution and never undoes it (here: a forced commit of a branch with no decision)', async () => {
    // The resolution is logged but was not carried out (as when the resource failed right after the log write).
    const { xid, gtrid } = await preparePgBranch(305)
    await server.log.appendResolution({
      gtrid,
      resource: 'pg',
      bqual: xid.bqual.toString('hex'),
      action: 'commit',
      operator: 'ops',
      reason: 'test: logged, not yet carried out',
      heuristic: true,
    })
    expect(server.log.get(gtrid)).toMatchObject({ ended: false })
    const listed = JSON.parse((await cli('in-doubt', '--json', '--resource', 'pg')).stdout)
    expect(listed.branches.find((b: { gtrid: string }) => b.gtrid === gtrid)).toMatchObject({
      knowledge: 'LOG_KNOWLEDGE_RESOLVED_COMMIT',
      action: 'RECOVERY_ACTION_COMMIT',
    })
    await cli('recover')
    await new Promise((resolve) => setTimeout(resolve, 1200)) // a no-decision branch would now be presumed aborted
    await cli('recover')
    expect(await pgPrepared(xid)).toBe(false)
    expect(await pgRow(305)).toBe(true)
    // Heuristic: its record stays (never ended), the audit trail of an outcome that broke atomicity.
    expect(server.log.get(gtrid)).toMatchObject({ ended: false })
    expect(JSON.parse((await cli('show', '--json', gtrid)).stdout).state).toBe('TRANSACTION_STATE_HEURISTIC')
  })
})
