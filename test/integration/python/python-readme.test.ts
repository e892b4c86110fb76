// Found by hostile testing: examples/python/README.md's command failed
// against the main README's quick-start bank, which has only `accounts`,
// because every transfer also writes `ledger`. The README now runs
// `service.py schema` first (the tables of examples/bank-transfer/schema.ts,
// made if missing); this runs its two commands as written, with --token, on
// a bank made as `npm run create-bank` makes it.
import { join } from 'node:path'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { EXAMPLE, PythonFixtures, skipPython } from './python-run.js'

const TOKEN = 'python-readme-token-0123456789'
// examples/quick-start/create-bank.ts: accounts only, 1–10 and 1001–1010, 1 000 each.
const ACCOUNTS = 'accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))'

describe.skipIf(skipPython())("examples/python/README.md's commands on the quick-start bank", () => {
  let py: PythonFixtures
  let urls: { pg: string; mysql: string }
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>

  beforeAll(async () => {
    py = PythonFixtures.build()
    const servers = sharedServerUrls()
    urls = { pg: await createDatabase(servers.pgUrl, 'pyreadme'), mysql: await createDatabase(servers.mysqlUrl, 'pyreadme') }
    const pgClient = new pg.Client({ connectionString: urls.pg })
    await pgClient.connect()
    await pgClient.query(`CREATE TABLE ${ACCOUNTS}`)
    await pgClient.query('INSERT INTO accounts (id, balance) SELECT id, 1000 FROM generate_series(1, 10) AS id')
    await pgClient.end()
    const my = await mysql.createConnection({ uri: urls.mysql })
    await my.query(`CREATE TABLE ${ACCOUNTS}`)
    await my.query(`INSERT INTO accounts (id, balance) VALUES ${Array.from({ length: 10 }, (_, i) => `(${1001 + i}, 1000)`).join(', ')}`)
    await my.end()
    arbiter = await startTestArbiter(
      [
        { name: 'pg', kind: 'postgres', url: urls.pg, poolSize: 4 },
        { name: 'mysql', kind: 'mysql', url: urls.mysql, poolSize: 4 },
      ],
      { auth: { tokens: [{ name: 'app', role: 'application', token: TOKEN }] } },
    )
  })

  afterAll(async () => {
    await arbiter?.stopAndClean()
    py?.remove()
  })

  it('schema, then transfers: every transfer commits or lacks funds, and the total is unchanged', async () => {
    const service = join(EXAMPLE, 'service.py')
    const dbs = ['--pg-url', urls.pg, '--mysql-url', urls.mysql]
    expect(await py.run(service, ['schema', ...dbs])).toEqual([{ schema: 'ready', perBank: 4 }])
    const records = await py.run(service, ['transfers', '--address', arbiter.address, '--token', TOKEN, ...dbs, '--count', '12', '--threads', '2'])
    const transfers = records.filter((r) => typeof r.id === 'string')
    expect(transfers).toHaveLength(12)
    for (const t of transfers) expect(['committed', 'aborted:insufficient funds'], JSON.stringify(t)).toContain(t.outcome)
    expect(transfers.filter((t) => t.outcome === 'committed').length).toBeGreaterThan(0)
    // Run again, schema changes nothing (the accounts keep their balances).
    expect(await py.run(service, ['schema', ...dbs])).toEqual([{ schema: 'ready', perBank: 4 }])
    const pgClient = new pg.Client({ connectionString: urls.pg })
    await pgClient.connect()
    const my = await mysql.createConnection({ uri: urls.mysql })
    try {
      const { rows } = await pgClient.query<{ total: string }>('SELECT sum(balance)::text AS total FROM accounts')
      const [[mine]] = (await my.query('SELECT CAST(sum(balance) AS CHAR) AS total FROM accounts')) as unknown as [[{ total: string }]]
      expect(Number(rows[0]!.total) + Number(mine.total)).toBe(20_000)
    } finally {
      await pgClient.end()
      await my.end()
    }
  })
})
