// The bank-transfer example end to end: the demo's core with a real SIGKILL
// of the TM, and an overdraft in both client modes.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, type ArbiterClient } from '../../../client/index.js'
import { InsufficientFundsError } from '../../../examples/bank-transfer/accounts.js'
import { runDemo } from '../../../examples/bank-transfer/run-demo.js'
import { createBank, ledgers, totalBalance } from '../../../examples/bank-transfer/schema.js'
import { transferWithLocalBranches } from '../../../examples/bank-transfer/transfer-local-branches.js'
import { transferThroughTm } from '../../../examples/bank-transfer/transfer-through-tm.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

describe('bank-transfer demo', () => {
  it('keeps the total and leaves nothing prepared across a SIGKILL of the TM', async () => {
    const { pgUrl, mysqlUrl } = sharedServerUrls()
    const summary = await runDemo({
      pgUrl: await createDatabase(pgUrl, 'demo'),
      mysqlUrl: await createDatabase(mysqlUrl, 'demo'),
      transfers: 300,
      concurrency: 8,
    })
    expect(summary.anomalies).toEqual([])
    expect(summary.totalAfter).toBe(summary.totalBefore)
    expect(summary.preparedLeft).toEqual({ pg: 0, mysql: 0 })
    expect(summary.crash?.inDoubtAtRestart).toBeGreaterThanOrEqual(1) // the crash came right after a decision
    expect(summary.committedByMode.execute).toBeGreaterThan(0)
    expect(summary.committedByMode.enlist).toBeGreaterThan(0)
    expect(summary.committed + Object.values(summary.aborted).reduce((a, b) => a + b, 0) + summary.unknown.total).toBe(300)
  })
})

describe('an overdraft', () => {
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  let client: ArbiterClient
  let pools: { pg: pg.Pool; mysql: mysql.Pool }

  beforeAll(async () => {
    const { pgUrl, mysqlUrl } = sharedServerUrls()
    const pgDb = await createDatabase(pgUrl, 'overdraft')
    const mysqlDb = await createDatabase(mysqlUrl, 'overdraft')
    pools = { pg: new pg.Pool({ connectionString: pgDb }), mysql: mysql.createPool({ uri: mysqlDb }) }
    await createBank(pools.pg, pools.mysql, 2, 100)
    arbiter = await startTestArbiter([
      { name: 'pg', kind: 'postgres', url: pgDb },
      { name: 'mysql', kind: 'mysql', url: mysqlDb },
    ])
    client = createArbiterClient({ address: arbiter.address })
  })
  afterAll(async () => {
    client?.close()
    await arbiter?.stopAndClean()
    await pools?.pg.end()
    await pools?.mysql.end()
  })

  it.each(['through the TM', 'with local branches'] as const)('is aborted on both databases (%s)', async (mode) => {
    // Lock order puts the MySQL credit before the PostgreSQL debit: the credit has run when the debit fails.
    const transfer = { id: `overdraft-${mode}`, from: { bank: 'pg' as const, id: 1 }, to: { bank: 'mysql' as const, id: 1001 }, amount: 150 }
    const attempt =
      mode === 'through the TM' ? transferThroughTm(client, transfer) : transferWithLocalBranches(client, pools, transfer)
    const error = await attempt.then(() => undefined, (e: unknown) => e)
    expect(error).toBeInstanceOf(InsufficientFundsError)
    expect((error as Error).message).toBe('insufficient funds: account pg:1 cannot pay 150')
    expect(await totalBalance(pools.pg, pools.mysql)).toBe(400)
    const [rows] = await pools.mysql.query('SELECT balance FROM accounts WHERE id = 1001')
    expect(Number((rows as { balance: string }[])[0]!.balance)).toBe(100) // the credit ran, and was rolled back
    const ledger = await ledgers(pools.pg, pools.mysql)
    expect(ledger.pg.has(transfer.id) || ledger.mysql.has(transfer.id)).toBe(false)
  })

  it('a transfer that fits commits on both databases', async () => {
    await transferThroughTm(client, { id: 'fits', from: { bank: 'mysql', id: 1002 }, to: { bank: 'pg', id: 2 }, amount: 60 })
    const ledger = await ledgers(pools.pg, pools.mysql)
    expect(ledger.pg.get('fits')).toBe(60)
    expect(ledger.mysql.get('fits')).toBe(-60)
    expect(await totalBalance(pools.pg, pools.mysql)).toBe(400)
  })
})
