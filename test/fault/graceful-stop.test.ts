// SIGTERM under load (issue #20.1): a graceful stop drains. New transactions
// are refused (the client begins again once the node is back), every request
// the TM received is answered with its true outcome, transactions still
// active at half the grace are rolled back and their callers told ABORTED
// (retryable), nothing is left prepared when the process exits, and /readyz
// says 503 from the first moment of the drain.
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, OutcomeUnknownError, TransactionAbortedError, UnavailableError, type ArbiterClient } from '../../client/index.js'
import { accountsOf, InsufficientFundsError, type Account } from '../../examples/bank-transfer/accounts.js'
import { checkBank, preparedLeft, type Outcome } from '../../examples/bank-transfer/bank-check.js'
import { transferWithLocalBranches } from '../../examples/bank-transfer/transfer-local-branches.js'
import { transferThroughTm } from '../../examples/bank-transfer/transfer-through-tm.js'
import type { ArbiterProcess } from '../helpers/test-arbiter.js'
import { startBankTm } from '../helpers/bank-tm.js'
import { totalBalance } from '../../examples/bank-transfer/schema.js'

const PER_BANK = 8
const GRACE_MS = 4000
let pgPool: pg.Pool
let mysqlPool: mysql.Pool
let tm: ArbiterProcess
let client: ArbiterClient
let nodeId: string
/** Set when the test ends, however it ends: the load's workers stop. */
let stopLoad = false

beforeAll(async () => {
  ;({ pgPool, mysqlPool, tm, nodeId } = await startBankTm('sigterm', {
    perBank: PER_BANK,
    appPoolSize: 20,
    tmPoolSize: 20,
    overrides: { shutdownGraceMs: GRACE_MS, metrics: { listen: '127.0.0.1:0' } },
  }))
  // The defaults an application has: default channel options, a 30 s RPC deadline.
  client = createArbiterClient({ address: tm.address })
})

afterAll(async () => {
  stopLoad = true
  client?.close()
  await tm?.destroy()
  await pgPool?.end()
  await mysqlPool?.end()
})

/** What the caller was told; anything but committed/aborted is a casualty of the restart. */
function classify(error: unknown): Outcome | 'unavailable' | `other:${string}` {
  if (error instanceof InsufficientFundsError) return 'aborted:insufficient funds'
  if (error instanceof TransactionAbortedError) return 'aborted:rolled back'
  if (error instanceof OutcomeUnknownError) return 'unknown'
  if (error instanceof UnavailableError) return 'unavailable'
  return `other:${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`
}

async function readyz(): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${tm.metricsAddress()}/readyz`)
  return { status: response.status, body: await response.text() }
}

describe('SIGTERM under load', () => {
  it('drains: every outcome is committed or aborted, nothing is left prepared when the process exits, and the node comes back', async () => {
    const accounts: Account[] = [...accountsOf('pg', PER_BANK), ...accountsOf('mysql', PER_BANK)]
    const outcomes = new Map<string, { outcome: Outcome; detail?: string }>()
    const casualties: string[] = []
    let n = 0
    const worker = async (w: number): Promise<void> => {
      while (!stopLoad) {
        const i = n++
        const from = accounts[(i * 7 + w) % accounts.length]!
        const to = accounts[(i * 5 + w + 3) % accounts.length]!
        if (from === to) continue
        const transfer = { id: `t${i}`, from, to, amount: 1 + (i % 20) }
        const result = await (i % 2 === 0 ? transferThroughTm(client, transfer) : transferWithLocalBranches(client, { pg: pgPool, mysql: mysqlPool }, transfer)).then(
          () => 'committed' as const,
          (error: unknown) => classify(error),
        )
        if (result === 'unavailable' || result.startsWith('other:') || result === 'unknown') casualties.push(`${transfer.id}: ${result}`)
        outcomes.set(transfer.id, { outcome: result === 'unavailable' || result.startsWith('other:') ? 'unknown' : (result as Outcome) })
      }
    }
    const totalBefore = await totalBalance(pgPool, mysqlPool)
    const load = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)))

    // A transaction still active at half the grace: rolled back, its caller told ABORTED (retryable).
    let slowOutcome: unknown
    const slow = client
      .transaction(async (tx) => {
        await tx.execute('pg', 'SELECT 1')
        await new Promise((resolve) => setTimeout(resolve, 1500 + GRACE_MS / 2 + 300)) // just after the half grace: rolled back, and its next request hears it
        await tx.execute('pg', 'SELECT 2')
      })
      .then(
        () => (slowOutcome = 'committed'),
        (error: unknown) => (slowOutcome = error),
      )

    await new Promise((resolve) => setTimeout(resolve, 1500))
    const committedBefore = [...outcomes.values()].filter((o) => o.outcome === 'committed').length
    const exited = tm.exited()
    process.kill(tm.pid!, 'SIGTERM')
    await expect.poll(async () => (await readyz()).status, { timeout: 2000, interval: 20 }).toBe(503)
    expect((await readyz()).body).toMatch(/draining/)
    const { code } = await exited
    expect(code).toBe(0)
    // Nothing prepared is left behind by a graceful stop (the clients' own phase 2 may need a moment).
    await expect.poll(async () => (await preparedLeft(pgPool, mysqlPool, nodeId)).total, { timeout: 3000, interval: 50 }).toBe(0)
    await slow
    expect(slowOutcome).toBeInstanceOf(TransactionAbortedError)
    expect((slowOutcome as TransactionAbortedError).retryable).toBe(true)

    await new Promise((resolve) => setTimeout(resolve, 300))
    await tm.spawn() // the clients begin again on the restarted node
    const committedAtRestart = [...outcomes.values()].filter((o) => o.outcome === 'committed').length
    await new Promise((resolve) => setTimeout(resolve, 1500))
    stopLoad = true
    await load

    const committedAfter = [...outcomes.values()].filter((o) => o.outcome === 'committed').length
    expect(committedBefore).toBeGreaterThan(0)
    expect(committedAfter).toBeGreaterThan(committedAtRestart) // back to work after the restart
    expect(casualties).toEqual([])
    await expect.poll(async () => (await preparedLeft(pgPool, mysqlPool, nodeId)).total, { timeout: 10_000 }).toBe(0)
    const { anomalies } = await checkBank(pgPool, mysqlPool, outcomes, totalBefore, await totalBalance(pgPool, mysqlPool))
    expect(anomalies).toEqual([])
  })
})
