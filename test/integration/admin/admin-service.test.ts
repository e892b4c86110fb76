// The Admin service and the `arbiter admin` CLI (admin-env.ts: the TM they
// run against): auth, resources, transactions, in-doubt branches and recover.
// Resolving by hand: admin-resolve.test.ts.
import { status } from '@grpc/grpc-js'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { describe, expect, it } from 'vitest'
import { ARBITER_FORMAT_ID, newGtrid, xidFromParts, xidToPgGid, xidToString } from '../../../adapters/xid/xid.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'
import { ADMIN_TOKEN, APP_TOKEN, bearer, cli, dbs, nodeId, pgPrepared, pgRow, preparePgBranch, server, setupAdminEnv } from './admin-env.js'
import { runAdminCli } from './cli.js'

setupAdminEnv('admin')

describe('auth through the CLI', () => {
  it("the application's token is refused with PERMISSION_DENIED; no token with UNAUTHENTICATED (exit 1, status named)", async () => {
    const app = await runAdminCli(['--address', server.address, '--token', APP_TOKEN, 'resources'])
    expect(app.code).toBe(1)
    expect(app.stderr).toMatch(/ListResources failed: PERMISSION_DENIED \(7\)/)
    const none = await runAdminCli(['--address', server.address, 'resources'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/UNAUTHENTICATED \(16\)/)
  })

  it('a token read from a file keeps working with its line break; one gRPC cannot carry is a usage error that never prints it', async () => {
    // Found by hostile testing: `ARBITER_ADMIN_TOKEN="$(cat file)"` of a CRLF file printed the whole secret in gRPC's error (exit 1).
    const withNewline = await runAdminCli(['--address', server.address, 'resources'], { ARBITER_ADMIN_TOKEN: `${ADMIN_TOKEN}\n` })
    expect(withNewline.code, withNewline.stderr).toBe(0)
    const bad = await runAdminCli(['--address', server.address, 'resources'], { ARBITER_ADMIN_TOKEN: `${ADMIN_TOKEN}\rsecret-tail` })
    expect(bad.code).toBe(2)
    expect(bad.stderr).toMatch(/--token \(or ARBITER_ADMIN_TOKEN\) holds characters a bearer token cannot carry/)
    expect(bad.stderr).not.toContain('secret-tail')
    expect(bad.stderr).not.toContain(ADMIN_TOKEN)
  })

  it('usage errors exit with 2', async () => {
    expect((await cli('resolve', '--gtrid', 'x', '--reason', 'r')).code).toBe(2) // neither --commit nor --rollback
    expect((await cli('transactions', '--state', 'NOPE')).code).toBe(2)
    expect((await cli('resolve', '--resource', 'pg', '--xid', 'no-commas', '--commit', '--reason', 'r')).code).toBe(2)
  })
})

describe('resources and transactions', () => {
  it('resources: table and JSON', async () => {
    const table = await cli('resources')
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/NAME.*KIND.*STATE.*PREPARED.*HEADROOM.*POOL/)
    expect(table.stdout).toMatch(/pg\s*│\s*postgres\s*│\s*ready/)
    expect(table.stdout).toMatch(/maria\s*│\s*mysql\s*│\s*ready/)
    const json = JSON.parse((await cli('--json', 'resources')).stdout)
    const pgHealth = json.resources.find((r: { name: string }) => r.name === 'pg')
    expect(pgHealth).toMatchObject({ kind: 'postgres', reachable: true, state: 'RESOURCE_STATE_READY' })
    expect(pgHealth.preparedHeadroom).toBeGreaterThan(0)
    expect(pgHealth.poolSize).toBeGreaterThan(0)
  })

  it('transactions: filters by label and state; table and JSON', async () => {
    const { tm, close } = tmClient(server.address)
    const { gtrid } = await tm.Begin({ labels: { order: '42' } }, bearer(APP_TOKEN))
    await tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1', params: [] } }, bearer(APP_TOKEN))
    const table = await cli('transactions', '--label', 'order=42', '--state', 'active')
    expect(table.code).toBe(0)
    expect(table.stdout).toContain(gtrid)
    expect(table.stdout).toMatch(/ACTIVE/)
    expect(table.stdout).toContain('order=42')
    const json = JSON.parse((await cli('transactions', '--json', '--label', 'order=42')).stdout)
    expect(json.transactions).toHaveLength(1)
    expect(json.transactions[0]).toMatchObject({ stuck: false, transaction: { gtrid, state: 'TRANSACTION_STATE_ACTIVE', labels: { order: '42' } } })
    expect(json.transactions[0].transaction.branches[0].xid).toBe(`${gtrid},b1,${ARBITER_FORMAT_ID}`)
    expect((await cli('transactions', '--json', '--label', 'order=43')).stdout).toContain('"transactions": []')
    const show = await cli('show', gtrid)
    expect(show.stdout).toMatch(/state\s*│\s*ACTIVE/)
    expect(show.stdout).toMatch(new RegExp(`pg\\s*│\\s*${gtrid},b1,${ARBITER_FORMAT_ID}\\s*│\\s*managed\\s*│\\s*ACTIVE`))
    await tm.Rollback({ gtrid, reason: 'test' }, bearer(APP_TOKEN))
    close()
  })

  it('pages through transactions with an opaque token', async () => {
    const { tm, close } = tmClient(server.address)
    const { admin, close: closeAdmin } = adminClient(server.address)
    const gtrids: string[] = []
    for (let i = 0; i < 5; i++) gtrids.push((await tm.Begin({ labels: { page: 'yes' } }, bearer(APP_TOKEN))).gtrid)
    const seen: string[] = []
    let pageToken = ''
    do {
      const page = await admin.ListTransactions({ label: 'page=yes', pageSize: 2, pageToken }, bearer(ADMIN_TOKEN))
      expect(page.transactions.length).toBeLessThanOrEqual(2)
      seen.push(...page.transactions.map((t) => t.transaction!.gtrid))
      pageToken = page.nextPageToken
    } while (pageToken)
    expect(seen).toEqual(gtrids)
    expect((await grpcError(admin.ListTransactions({ pageToken: 'garbage' }, bearer(ADMIN_TOKEN)))).code).toBe(status.INVALID_ARGUMENT)
    for (const gtrid of gtrids) await tm.Rollback({ gtrid, reason: 'test' }, bearer(APP_TOKEN))
    close()
    closeAdmin()
  })
})

describe('in-doubt and recover', () => {
  it('an orphan (no decision) is listed "will roll back" and rolled back by recover after the grace period', async () => {
    const { xid } = await preparePgBranch(101)
    const text = xidToString(xid)
    const table = await cli('in-doubt', '--resource', 'pg')
    expect(table.code).toBe(0)
    expect(table.stdout).toMatch(/RESOURCE.*XID.*NODE.*AGE.*LOG.*RECOVERY/)
    expect(table.stdout).toContain(text)
    expect(table.stdout).toMatch(/NO_DECISION\s*│\s*will roll back after the grace period/)
    const json = JSON.parse((await cli('in-doubt', '--json', '--resource', 'pg')).stdout)
    const listed = json.branches.find((b: { xid: string }) => b.xid === text)
    expect(listed).toMatchObject({ resource: 'pg', knowledge: 'LOG_KNOWLEDGE_NO_DECISION', action: 'RECOVERY_ACTION_ROLLBACK_AFTER_GRACE' })
    expect(Number(listed.ageMs)).toBeGreaterThanOrEqual(0)

    const first = JSON.parse((await cli('recover', '--json')).stdout)
    expect(first.steps.find((s: { xid: string }) => s.xid === text).action).toBe('RECOVERY_ACTION_ROLLBACK_AFTER_GRACE')
    expect(await pgPrepared(xid)).toBe(true) // seen once: not yet
    await new Promise((resolve) => setTimeout(resolve, 1200))
    const pending = JSON.parse((await cli('in-doubt', '--json', '--resource', 'pg')).stdout)
    expect(pending.branches.find((b: { xid: string }) => b.xid === text).action).toBe('RECOVERY_ACTION_ROLLBACK')
    const second = await cli('recover')
    expect(second.stdout).toMatch(new RegExp(`${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*│\\s*rollback\\s*│\\s*done`))
    expect(await pgPrepared(xid)).toBe(false)
    expect(await pgRow(101)).toBe(false)
    expect((await cli('in-doubt', '--resource', 'pg')).stdout).not.toContain(text)
  })

  it('foreign prepared transactions (PostgreSQL by hand, MariaDB XA formatID 1) are listed and never touched', async () => {
    const tag = `foreign-${Math.random().toString(36).slice(2, 8)}`
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    await pgConn.query('BEGIN')
    await pgConn.query('INSERT INTO accounts VALUES (201, 1)')
    await pgConn.query(`PREPARE TRANSACTION '${tag}'`)
    await pgConn.end()
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    await myConn.query(`XA START '${tag}','b',1`)
    await myConn.query('INSERT INTO accounts VALUES (201, 1)')
    await myConn.query(`XA END '${tag}','b',1`)
    await myConn.query(`XA PREPARE '${tag}','b',1`)
    await myConn.end() // detaches the branch (MariaDB): it stays prepared
    const myRawId = `X'${Buffer.from(tag).toString('hex')}',X'${Buffer.from('b').toString('hex')}',1`
    try {
      const listed = JSON.parse((await cli('in-doubt', '--json')).stdout)
      expect(listed.branches).toContainEqual(
        expect.objectContaining({ resource: 'pg', rawId: tag, knowledge: 'LOG_KNOWLEDGE_FOREIGN', action: 'RECOVERY_ACTION_NONE', xid: null }),
      )
      expect(listed.branches).toContainEqual(
        expect.objectContaining({ resource: 'maria', rawId: myRawId, knowledge: 'LOG_KNOWLEDGE_FOREIGN', action: 'RECOVERY_ACTION_NONE' }),
      )
      const table = await cli('in-doubt')
      expect(table.stdout).toMatch(new RegExp(`${tag}\\s*│.*FOREIGN\\s*│\\s*never touched`))
      await cli('recover')
      await new Promise((resolve) => setTimeout(resolve, 1200)) // past the grace period: still never touched
      await cli('recover')
      expect(await dbs.pgQuery('SELECT 1 FROM pg_prepared_xacts WHERE gid = $1', [tag])).toHaveLength(1)
      const xa = await dbs.mysqlQuery<{ data: Buffer | string }>('XA RECOVER')
      expect(xa.some((r) => String(r.data).startsWith(tag))).toBe(true)
    } finally {
      await dbs.pgQuery(`ROLLBACK PREPARED '${tag}'`)
      await dbs.mysqlQuery(`XA ROLLBACK '${tag}','b',1`)
    }
  })

  it("an XID with Arbiter's formatId and this node's name in a spelling Arbiter never writes (lower-case ULID) is foreign: never rolled back", async () => {
    // The same ULID number as a real gtrid of this node, in lower case (the canonical gid re-encodes it exactly).
    const gtrid = newGtrid(nodeId).toLowerCase().replace(nodeId.toLowerCase(), nodeId)
    const xid = xidFromParts(ARBITER_FORMAT_ID, Buffer.from(gtrid), Buffer.from('b1'))
    const pgConn = new pg.Client({ connectionString: dbs.pgUrl })
    await pgConn.connect()
    await pgConn.query('BEGIN')
    await pgConn.query('INSERT INTO accounts VALUES (202, 1)')
    await pgConn.query(`PREPARE TRANSACTION '${xidToPgGid(xid)}'`)
    await pgConn.end()
    const myConn = await mysql.createConnection({ uri: dbs.mysqlUrl })
    const literal = `X'${Buffer.from(gtrid).toString('hex')}',X'${Buffer.from('b1').toString('hex')}',${ARBITER_FORMAT_ID}`
    await myConn.query(`XA START ${literal}`)
    await myConn.query('INSERT INTO accounts VALUES (202, 1)')
    await myConn.query(`XA END ${literal}`)
    await myConn.query(`XA PREPARE ${literal}`)
    await myConn.end()
    try {
      const listed = JSON.parse((await cli('in-doubt', '--json')).stdout)
      expect(listed.branches).toContainEqual(expect.objectContaining({ resource: 'pg', rawId: xidToPgGid(xid), knowledge: 'LOG_KNOWLEDGE_FOREIGN', action: 'RECOVERY_ACTION_NONE' }))
      expect(listed.branches).toContainEqual(expect.objectContaining({ resource: 'maria', knowledge: 'LOG_KNOWLEDGE_FOREIGN', action: 'RECOVERY_ACTION_NONE' }))
      await cli('recover')
      await new Promise((resolve) => setTimeout(resolve, 1200)) // past the grace period
      await cli('recover')
      expect(await pgPrepared(xid)).toBe(true)
      const xa = await dbs.mysqlQuery<{ data: Buffer | string }>('XA RECOVER')
      expect(xa.some((r) => String(r.data).startsWith(gtrid))).toBe(true)
      const refused = await cli('resolve', '--resource', 'pg', '--xid', `${gtrid},b1`, '--rollback', '--reason', 'test')
      expect(refused.code).not.toBe(0)
      expect(await pgPrepared(xid)).toBe(true)
    } finally {
      await dbs.pgQuery(`ROLLBACK PREPARED '${xidToPgGid(xid)}'`)
      await dbs.mysqlQuery(`XA ROLLBACK ${literal}`)
    }
  })
})
