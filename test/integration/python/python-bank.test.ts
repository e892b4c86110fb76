// Issue #26: a Python service on the same gRPC contract (examples/python/).
// Its stubs are generated here from proto/ with Debian's grpc_tools; it runs
// bank transfers in every mode (Begin/ExecuteBatch/Commit, one-shot Run, and
// its own psycopg2 / PyMySQL connections as local branches, by Enlist and
// named by itself) against a real TM, concurrently with the TypeScript client
// on the same accounts. Then: the total is unchanged, every transfer landed in
// both databases or neither and agrees with what its caller was told, nothing
// is left prepared, the Python side's completion reports reached the TM, the
// TM finishes the branches of a Python service that dies mid-protocol (so its
// XID spelling is Arbiter's), and both languages decode the same errors to
// the same codes.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeXid, newGtrid, xidToMysqlLiteral, xidToPgGid } from '../../../adapters/index.js'
import { ArbiterError, createArbiterClient, type ArbiterClient } from '../../../client/index.js'
import { accountsOf } from '../../../examples/bank-transfer/accounts.js'
import { checkBank, preparedLeft, type Outcome } from '../../../examples/bank-transfer/bank-check.js'
import { classifyOutcome } from '../../../examples/bank-transfer/classify-outcome.js'
import { createBank, ledgers, totalBalance } from '../../../examples/bank-transfer/schema.js'
import { transferWithLocalBranches } from '../../../examples/bank-transfer/transfer-local-branches.js'
import { transferOneShot } from '../../../examples/bank-transfer/transfer-one-shot.js'
import { transferThroughTm } from '../../../examples/bank-transfer/transfer-through-tm.js'
import type { Transfer } from '../../../examples/bank-transfer/transfer.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { EXAMPLE, PYTHON, PythonFixtures, skipPython, type PyRecord } from './python-run.js'

const TOKEN = 'python-test-token-0123456789'
const PER_BANK = 4
const BALANCE = 1000
/** Long enough that a transaction still COMMITTING after a few seconds shows a report that never arrived. */
const LOCAL_BRANCH_GRACE_MS = 5000

// In CI the packages are installed (.ci/run): a missing one fails the test instead of skipping it.
const skip = skipPython()

interface ErrorShape {
  code: string
  grpcStatus?: number
  retryable?: boolean
  serverCode?: string | null
}

describe.skipIf(skip)('a Python service on the same gRPC contract (issue #26)', () => {
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let client: ArbiterClient
  let pools: { pg: pg.Pool; mysql: mysql.Pool }
  let urls: { pg: string; mysql: string }
  let fixtures: PythonFixtures | undefined
  let nodeId: string

  /** Runs examples/python/service.py; resolves with its JSON lines. */
  async function python(command: string, args: string[] = [], timeoutMs = 45_000): Promise<PyRecord[]> {
    const service = [command, '--address', arbiter.address, '--token', TOKEN, '--pg-url', urls.pg, '--mysql-url', urls.mysql, ...args]
    return fixtures!.run(join(EXAMPLE, 'service.py'), service, timeoutMs)
  }

  beforeAll(async () => {
    fixtures = PythonFixtures.build()
    // Unique per run: tests share the MariaDB server, and XA RECOVER lists every database's branches.
    nodeId = `py${Math.random().toString(36).slice(2, 10)}`
    const servers = sharedServerUrls()
    urls = { pg: await createDatabase(servers.pgUrl, 'python'), mysql: await createDatabase(servers.mysqlUrl, 'python') }
    pools = { pg: new pg.Pool({ connectionString: urls.pg, max: 6 }), mysql: mysql.createPool({ uri: urls.mysql, connectionLimit: 6 }) }
    await createBank(pools.pg, pools.mysql, PER_BANK, BALANCE)
    arbiter = await startTestArbiter(
      [
        { name: 'pg', kind: 'postgres', url: urls.pg, poolSize: 8 },
        { name: 'mysql', kind: 'mysql', url: urls.mysql, poolSize: 8 },
      ],
      {
        nodeId,
        auth: { tokens: [{ name: 'bank', role: 'application', token: TOKEN }] },
        transactions: { defaultTimeoutMs: 20_000, maxTimeoutMs: 120_000, localBranchGraceMs: LOCAL_BRANCH_GRACE_MS, retentionMs: 600_000 },
      },
    )
    client = createArbiterClient({ address: arbiter.address, token: TOKEN })
  })

  afterAll(async () => {
    client?.close()
    await arbiter?.stopAndClean()
    await pools?.pg.end()
    await pools?.mysql.end()
    fixtures?.remove()
  })

  /** Waits until neither database holds a prepared branch of this TM's, nor any other in the test database. */
  async function nothingPrepared(withinMs: number): Promise<void> {
    const until = Date.now() + withinMs
    for (;;) {
      const left = await preparedLeft(pools.pg, pools.mysql, nodeId)
      // Also what is not Arbiter's spelling: a gid or XID this TM would not recognise stays prepared for good.
      const { rows } = await pools.pg.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')
      const [xa] = (await pools.mysql.query('XA RECOVER')) as unknown as [{ data: Buffer | string }[]]
      const rawMysql = xa.filter((r) => Buffer.from(r.data).toString('latin1').includes(`${nodeId}:`))
      if (left.total === 0 && rows.length === 0 && rawMysql.length === 0) return
      if (Date.now() > until) throw new Error(`still prepared after ${withinMs} ms: ${JSON.stringify({ left, pg: rows, mysql: rawMysql.length })}`)
      await new Promise((r) => setTimeout(r, 200))
    }
  }

  it('transfers from Python and TypeScript on the same accounts: totals equal, all or nothing, nothing left prepared', async () => {
    const totalBefore = await totalBalance(pools.pg, pools.mysql)
    expect(totalBefore).toBe(2 * PER_BANK * BALANCE)

    // TypeScript: the three modes of examples/bank-transfer, four at a time, while Python runs its own.
    const accounts = [...accountsOf('pg', PER_BANK), ...accountsOf('mysql', PER_BANK)]
    const tsOutcomes = new Map<string, { outcome: Outcome; detail?: string; mode: string; at: number }>()
    const tsCount = 80
    let next = 0
    const tsWorker = async (): Promise<void> => {
      const app = { pg: pools.pg, mysql: pools.mysql }
      for (let i = next++; i < tsCount; i = next++) {
        const from = accounts[(i * 5) % accounts.length]!
        const to = accounts[(i * 5 + 1 + (i % 3)) % accounts.length]!
        const transfer: Transfer = { id: `ts-${i}`, from, to, amount: i % 8 === 7 ? 1_000_000 : 1 + ((i * 13) % 50) }
        const mode = (['through-tm', 'local', 'one-shot'] as const)[i % 3]!
        try {
          if (mode === 'through-tm') await transferThroughTm(client, transfer)
          else if (mode === 'local') await transferWithLocalBranches(client, app, transfer)
          else await transferOneShot(client, transfer)
          tsOutcomes.set(transfer.id, { outcome: 'committed', mode, at: Date.now() })
        } catch (error) {
          tsOutcomes.set(transfer.id, { outcome: classifyOutcome(error), detail: String(error), mode, at: Date.now() })
        }
      }
    }
    const started = performance.now()
    const [pyRecords] = await Promise.all([
      python('transfers', ['--count', '80', '--threads', '4', '--per-bank', String(PER_BANK), '--big-every', '5', '--lose-every', '7', '--prefix', 'py', '--seed', '26']),
      Promise.all(Array.from({ length: 4 }, tsWorker)),
    ])
    const seconds = (performance.now() - started) / 1000

    const py = pyRecords.filter((r) => typeof r.id === 'string')
    expect(py).toHaveLength(80)
    const outcomes = new Map<string, { outcome: Outcome; detail?: string }>()
    for (const r of py) outcomes.set(r.id as string, { outcome: r.outcome as Outcome, detail: JSON.stringify(r) })
    for (const [id, o] of tsOutcomes) outcomes.set(id, o)

    // Nothing but commits and overdrafts: no fault was injected, every lost answer was asked about.
    const unexpected = [...outcomes].filter(([, o]) => o.outcome !== 'committed' && o.outcome !== 'aborted:insufficient funds')
    expect(unexpected, 'transfers that neither committed nor failed for lack of funds').toEqual([])
    for (const mode of ['through-tm', 'one-shot', 'local', 'local-named']) {
      const ofMode = py.filter((r) => r.mode === mode)
      expect(ofMode.filter((r) => r.outcome === 'committed').length, `Python ${mode} commits`).toBeGreaterThan(0)
      expect(ofMode.filter((r) => r.outcome === 'aborted:insufficient funds').length, `Python ${mode} overdrafts`).toBeGreaterThan(0)
    }
    // Commit (or Run) answers dropped on the Python side: it asked GetTransaction (or sent the Run again) and learned COMMITTED.
    expect(py.filter((r) => r.lostAnswer === true && r.outcome === 'committed').length).toBeGreaterThanOrEqual(4)
    expect([...tsOutcomes.values()].filter((o) => o.outcome === 'committed').length).toBeGreaterThan(40)
    // The two languages really ran at the same time: TypeScript transfers ended while Python's were under way.
    const pyTimes = py.map((r) => r.at as number)
    const [pyFirst, pyLast] = [Math.min(...pyTimes), Math.max(...pyTimes)]
    const overlapping = [...tsOutcomes.values()].filter((o) => o.at > pyFirst && o.at < pyLast).length
    expect(overlapping).toBeGreaterThan(5)

    await nothingPrepared(10_000)
    const totalAfter = await totalBalance(pools.pg, pools.mysql)
    const { anomalies } = await checkBank(pools.pg, pools.mysql, outcomes, totalBefore, totalAfter)
    expect(anomalies).toEqual([])
    expect(totalAfter).toBe(totalBefore)

    // The Python side committed its local branches itself and told the TM (riding on a later Commit or in
    // CompleteLocalBranches): within well under the TM's grace period every one is COMMITTED, branch by branch.
    const localGtrids = py.filter((r) => String(r.mode).startsWith('local') && r.outcome === 'committed').map((r) => ({ gtrid: r.gtrid as string, mode: r.mode }))
    const until = Date.now() + LOCAL_BRANCH_GRACE_MS / 2
    for (const { gtrid, mode } of localGtrids) {
      let info = await client.getTransaction(gtrid)
      while (info.state !== 'COMMITTED' && Date.now() < until) {
        await new Promise((r) => setTimeout(r, 100))
        info = await client.getTransaction(gtrid)
      }
      expect(info.state, `${gtrid} (${String(mode)})`).toBe('COMMITTED')
      expect(info.labels.language).toBe('python')
      for (const b of info.branches) {
        expect(b.mode).toBe('local')
        expect(b.state).toBe('COMMITTED')
        // Enlist names local branches b<n> (the TM's own numbering); a client naming them itself uses L<n>.
        expect(b.bqual).toMatch(mode === 'local-named' ? /^L[12]$/ : /^b[12]$/)
      }
    }
    const committed = [...outcomes.values()].filter((o) => o.outcome === 'committed').length
    console.log(`python + typescript: ${outcomes.size} transfers in ${seconds.toFixed(1)} s (${committed} committed, ${overlapping} TypeScript ones ended while Python's ran)`)
  })

  it('a Python service that dies after the decision, or after preparing, leaves its branches to the TM, which finishes them by its XIDs', async () => {
    const totalBefore = await totalBalance(pools.pg, pools.mysql)
    const records = await python('crash', ['--prefix', 'crash'])
    const byPoint = new Map(records.map((r) => [r.point as string, r]))
    const decided = byPoint.get('after-decision')!
    const prepared = byPoint.get('after-prepare')!
    expect(decided.gtrid).toMatch(new RegExp(`^${nodeId}:`))
    // Both branches of each are prepared in the databases now, under the XIDs the Python side spelled.
    const left = await preparedLeft(pools.pg, pools.mysql, nodeId)
    expect(left).toEqual({ pg: 2, mysql: 2, total: 4 })

    // The TM commits the decided one after its grace period; its reaper rolls the other back at its deadline.
    await nothingPrepared(LOCAL_BRANCH_GRACE_MS + 8000)
    const ledger = await ledgers(pools.pg, pools.mysql)
    expect(ledger.pg.get(decided.id as string)).toBe(-7)
    expect(ledger.mysql.get(decided.id as string)).toBe(7)
    expect(ledger.pg.has(prepared.id as string) || ledger.mysql.has(prepared.id as string)).toBe(false)
    expect((await client.getTransaction(decided.gtrid as string)).state).toBe('COMMITTED')
    expect((await client.getTransaction(prepared.gtrid as string)).state).toBe('ROLLED_BACK')
    expect(await totalBalance(pools.pg, pools.mysql)).toBe(totalBefore)
  })

  it("spells XIDs on both servers exactly as the TM's codec does", () => {
    const xids = Array.from({ length: 40 }, (_, i) => makeXid(newGtrid(`node${i}`), `${i % 2 === 0 ? 'b' : 'L'}${1 + i * 7}`))
    const script = [
      'import json, sys',
      'from arbiter_client.local_branches import Xid, pg_gid, mysql_xid',
      'for x in json.load(sys.stdin):',
      '    xid = Xid(x[0], bytes.fromhex(x[1]), bytes.fromhex(x[2]))',
      '    print(pg_gid(xid) + "\\t" + mysql_xid(xid))',
    ].join('\n')
    const input = JSON.stringify(xids.map((x) => [x.formatId, x.gtrid.toString('hex'), x.bqual.toString('hex')]))
    const out = spawnSync(PYTHON, ['-c', script], { input, encoding: 'utf8', env: { ...process.env, PYTHONPATH: fixtures!.pythonPath, PYTHONDONTWRITEBYTECODE: '1' } })
    expect(out.stderr).toBe('')
    expect(out.stdout.trim().split('\n')).toEqual(xids.map((x) => `${xidToPgGid(x)}\t${xidToMysqlLiteral(x)}`))
  })

  it('decodes google.rpc.ErrorInfo into the same error codes as the TypeScript client', async () => {
    const [{ cases: pyCases }] = (await python('errors')) as [{ cases: Record<string, ErrorShape> }]
    const shape = (error: unknown): ErrorShape => {
      if (!(error instanceof ArbiterError)) return { code: error instanceof Error ? error.name : String(error) }
      return { code: error.code, grpcStatus: error.grpcCode, retryable: error.retryable, serverCode: error.metadata.serverCode ?? null }
    }
    const failure = async (work: () => Promise<unknown>): Promise<ErrorShape> => {
      try {
        await work()
        return { code: 'none' }
      } catch (error) {
        return shape(error)
      }
    }
    const node = nodeId
    const ts: Record<string, ErrorShape> = {
      'refused statement': await failure(() => client.transaction((tx) => tx.execute('pg', 'COMMIT'))),
      'CHECK violation through the TM': await failure(() =>
        client.transaction((tx) => tx.execute('pg', 'UPDATE accounts SET balance = balance - 1000000000 WHERE id = 1')),
      ),
      'CHECK violation in a Run on MariaDB': await failure(() =>
        client.run([{ resource: 'mysql', sql: 'UPDATE accounts SET balance = balance - 1000000000 WHERE id = 1001' }]),
      ),
      'unknown resource': await failure(() => client.transaction((tx) => tx.execute('nosuch', 'SELECT 1'))),
      'unknown transaction': await failure(() => client.getTransaction(`${node}:01ARZ3NDEKTSV4RRFFQ69G5FAV`)),
      'deadline passed': await failure(() =>
        client.transaction(
          async (tx) => {
            await new Promise((r) => setTimeout(r, 800))
            await tx.execute('pg', 'SELECT 1')
          },
          { timeoutMs: 300 },
        ),
      ),
      'local branch on an unknown resource': await failure(async () => {
        const conn = await pools.pg.connect()
        try {
          await client.transaction(async (tx) => {
            await tx.enlist('nosuch', conn)
            await conn.query('UPDATE accounts SET balance = balance WHERE id = 1')
          })
        } finally {
          conn.release()
        }
      }),
      'local branch that cannot prepare': await failure(async () => {
        const conn = await pools.pg.connect()
        try {
          await client.transaction(async (tx) => {
            await tx.enlist('pg', conn)
            await conn.query('SELECT 1/0').catch(() => undefined) // swallowed: the block is aborted, the branch votes no
          })
        } finally {
          conn.release()
        }
      }),
      'wrong token': await failure(async () => {
        const other = createArbiterClient({ address: arbiter.address, token: 'not-the-token' })
        try {
          await other.run([{ resource: 'pg', sql: 'SELECT 1' }])
        } finally {
          other.close()
        }
      }),
    }
    const comparable = (cases: Record<string, ErrorShape>): Record<string, ErrorShape> =>
      Object.fromEntries(Object.entries(cases).map(([k, v]) => [k, { code: v.code, grpcStatus: v.grpcStatus, retryable: v.retryable, serverCode: v.serverCode ?? null }]))
    expect(comparable(pyCases)).toEqual(comparable(ts))
    // And they are the right ones (both sides could be wrong alike).
    expect(Object.fromEntries(Object.entries(ts).map(([k, v]) => [k, [v.code, v.retryable, v.serverCode]]))).toEqual({
      'refused statement': ['TM_INVALID_ARGUMENT', false, null],
      'CHECK violation through the TM': ['TM_TX_ABORTED', false, '23514'],
      'CHECK violation in a Run on MariaDB': ['TM_TX_ABORTED', false, '4025'],
      'unknown resource': ['TM_INVALID_ARGUMENT', false, null],
      'unknown transaction': ['TM_TX_NOT_FOUND', false, null],
      'deadline passed': ['TM_TX_ABORTED', true, null],
      'local branch on an unknown resource': ['TM_INVALID_ARGUMENT', false, null],
      'local branch that cannot prepare': ['TM_TX_ABORTED', false, null],
      'wrong token': ['TM_UNAUTHENTICATED', false, null],
    })
  })
})
