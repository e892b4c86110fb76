// client.run() through TM SIGKILLs (issue #20.2): every error but
// OutcomeUnknownError means "not committed", and the bank's checker holds
// the client to it. On the code before the one-shot was named by the client,
// run() rejected with UnavailableError for transfers that had committed.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError, type ArbiterClient } from '../../client/index.js'
import { accountsOf, InsufficientFundsError, type Account } from '../../examples/bank-transfer/accounts.js'
import { checkBank, preparedLeft, type Outcome } from '../../examples/bank-transfer/bank-check.js'
import { transferOneShot } from '../../examples/bank-transfer/transfer-one-shot.js'
import type { ArbiterProcess } from '../helpers/test-arbiter.js'
import { startBankTm } from '../helpers/bank-tm.js'
import { totalBalance } from '../../examples/bank-transfer/schema.js'

const PER_BANK = 8
const KILLS = 2
let pgPool: pg.Pool
let mysqlPool: mysql.Pool
let tm: ArbiterProcess
let clients: ArbiterClient[] = []
let nodeId: string
let stopLoad = false

beforeAll(async () => {
  ;({ pgPool, mysqlPool, tm, nodeId } = await startBankTm('oneshotkill', { perBank: PER_BANK, appPoolSize: 4, tmPoolSize: 12 }))
  // Both transports, default channel options and deadlines.
  clients = [createArbiterClient({ address: tm.address }), createArbiterClient({ address: tm.address, transport: 'unary' })]
})

afterAll(async () => {
  stopLoad = true
  for (const c of clients) c.close()
  await tm?.destroy()
  await pgPool?.end()
  await mysqlPool?.end()
})

describe('run() through TM SIGKILLs', () => {
  it('never says "not committed" for a transfer that committed', async () => {
    const accounts: Account[] = [...accountsOf('pg', PER_BANK), ...accountsOf('mysql', PER_BANK)]
    const outcomes = new Map<string, { outcome: Outcome; detail?: string }>()
    const seen = new Map<string, number>()
    let n = 0
    const worker = async (w: number): Promise<void> => {
      while (!stopLoad) {
        const i = n++
        const from = accounts[(i * 7 + w) % accounts.length]!
        const to = accounts[(i * 5 + w + 3) % accounts.length]!
        if (from === to) continue
        const transfer = { id: `r${i}`, from, to, amount: 1 + (i % 20) }
        const outcome: { outcome: Outcome; detail?: string } = await transferOneShot(clients[w % 2]!, transfer).then(
          () => ({ outcome: 'committed' as const }),
          (error: unknown) => {
            const name = error instanceof Error ? error.name : 'non-error'
            seen.set(name, (seen.get(name) ?? 0) + 1)
            if (error instanceof OutcomeUnknownError) return { outcome: 'unknown' as const }
            // Anything else promises that nothing was committed.
            const detail = error instanceof Error ? `${error.name}: ${error.message}` : String(error)
            return { outcome: error instanceof InsufficientFundsError ? ('aborted:insufficient funds' as const) : (`aborted:${name}` as const), detail }
          },
        )
        outcomes.set(transfer.id, outcome)
      }
    }
    const totalBefore = await totalBalance(pgPool, mysqlPool)
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)))
    const committed = (): number => [...outcomes.values()].filter((o) => o.outcome === 'committed').length
    for (let k = 0; k < KILLS; k++) {
      await new Promise((resolve) => setTimeout(resolve, 1500))
      await tm.kill()
      await new Promise((resolve) => setTimeout(resolve, 300))
      await tm.spawn()
    }
    const atLastRestart = committed()
    await new Promise((resolve) => setTimeout(resolve, 2500))
    stopLoad = true
    await load
    expect(committed()).toBeGreaterThan(atLastRestart) // back to work
    await expect.poll(async () => (await preparedLeft(pgPool, mysqlPool, nodeId)).total, { timeout: 15_000 }).toBe(0)
    const { anomalies, unknown } = await checkBank(pgPool, mysqlPool, outcomes, totalBefore, await totalBalance(pgPool, mysqlPool))
    console.log(`run() under ${KILLS} SIGKILLs: ${outcomes.size} transfers, ${committed()} committed, errors ${JSON.stringify(Object.fromEntries(seen))}, unknown ${JSON.stringify(unknown)}`)
    expect(anomalies).toEqual([])
  })
})
