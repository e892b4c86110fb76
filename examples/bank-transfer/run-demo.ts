// The demo's core: random concurrent transfers across both databases in both
// client modes, a SIGKILL of the TM halfway, and a check of every invariant
// at the end (reliability.md §b). Used by `npm run demo` and by its test.
import { writeFileSync } from 'node:fs'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient, UnavailableError } from '../../client/index.js'
import { ArbiterProcess, testConfig } from '../../test/helpers/test-arbiter.js'
import { accountsOf, type Account } from './accounts.js'
import { classifyOutcome } from './classify-outcome.js'
import { checkBank, preparedLeft, type Outcome } from './bank-check.js'
import { createBank, totalBalance } from './schema.js'
import { transferThroughTm } from './transfer-through-tm.js'
import { transferWithLocalBranches } from './transfer-local-branches.js'
import type { Transfer } from './transfer.js'

export interface DemoOptions {
  /** Databases to use (fresh ones: the demo creates its tables there). */
  readonly pgUrl: string
  readonly mysqlUrl: string
  readonly transfers?: number
  readonly concurrency?: number
  readonly accountsPerBank?: number
  readonly initialBalance?: number
  /**
   * The TM kills itself with SIGKILL right after logging a decision, about
   * this far into the run (default 0.5; null: never), so that at least one
   * decided transfer is in doubt when it restarts.
   */
  readonly crashAt?: number | null
  readonly onProgress?: (progress: DemoProgress) => void
  /** Write the TM's own log (JSON lines, both runs) to this file at the end. */
  readonly tmLogFile?: string
  readonly log?: (line: string) => void
}

export interface DemoProgress {
  readonly done: number
  readonly total: number
  readonly committed: number
  readonly aborted: number
  readonly unknown: number
}

export interface DemoSummary {
  readonly transfers: number
  readonly committed: number
  readonly committedByMode: { readonly execute: number; readonly enlist: number }
  readonly aborted: Readonly<Record<string, number>>
  /** Transfers whose outcome the client could not learn (the TM died under them), and what they turned out to be. */
  readonly unknown: { readonly total: number; readonly committed: number; readonly rolledBack: number }
  readonly totalBefore: number
  readonly totalAfter: number
  readonly preparedLeft: { readonly pg: number; readonly mysql: number }
  readonly crash?: { readonly inDoubtAtRestart: number; readonly recoveredInMs: number }
  /** Broken invariants; empty when Arbiter kept its promise. */
  readonly anomalies: readonly string[]
  readonly durationMs: number
  readonly committedPerSecond: number
}


/**
 * About half the random transfers cross the two databases (the ones that log
 * a decision); counting on a bit fewer makes sure the fail point fires.
 */
const CROSS_BANK_SHARE = 0.4

export async function runDemo(options: DemoOptions): Promise<DemoSummary> {
  const total = options.transfers ?? 2000
  const concurrency = options.concurrency ?? 16
  const perBank = options.accountsPerBank ?? 20
  const log = options.log ?? (() => undefined)
  const pgPool = new pg.Pool({ connectionString: options.pgUrl, max: concurrency + 2 })
  const mysqlPool = mysql.createPool({ uri: options.mysqlUrl, connectionLimit: concurrency + 2 })
  pgPool.on('error', () => undefined)
  await createBank(pgPool, mysqlPool, perBank, options.initialBalance ?? 1000)
  const totalBefore = await totalBalance(pgPool, mysqlPool)

  const config = testConfig(
    [
      { name: 'pg', kind: 'postgres', url: options.pgUrl, poolSize: concurrency + 4 },
      { name: 'mysql', kind: 'mysql', url: options.mysqlUrl, poolSize: concurrency + 4 },
    ],
    { transactions: { defaultTimeoutMs: 10_000, localBranchGraceMs: 2000 } },
  )
  const nodeId = config.nodeId!
  const crashAfter = options.crashAt === null ? undefined : Math.max(1, Math.floor(total * (options.crashAt ?? 0.5) * CROSS_BANK_SHARE))
  const tm = await ArbiterProcess.start(config, crashAfter === undefined ? {} : { ARBITER_FAILPOINTS: `after-decision#${crashAfter}=crash` })
  log(`Arbiter is up at ${tm.address} (node ${nodeId}), decision log in ${config.dataDir}`)
  const client = createArbiterClient({ address: tm.address, defaultDeadlineMs: 15_000, outcomeQueryAttempts: 8 })

  const accounts: Account[] = [...accountsOf('pg', perBank), ...accountsOf('mysql', perBank)]
  const outcomes = new Map<string, { outcome: Outcome; mode: 'execute' | 'enlist'; detail?: string }>()
  const counts = { committed: 0, aborted: 0, unknown: 0 }
  let started = 0
  let done = 0
  let workersDone = false
  let tmLog = ''
  let crash: DemoSummary['crash']
  const t0 = Date.now()

  const crashAndRecover = async (): Promise<void> => {
    tmLog += tm.logs()
    log(`the TM was killed with SIGKILL after ${done} transfers, right after logging a decision, with transfers in flight`)
    await new Promise((r) => setTimeout(r, 300))
    const restartedAt = Date.now()
    await tm.spawn()
    const inDoubt = Number(/"unfinished":(\d+)/.exec(tm.logs())?.[1] ?? 0)
    log(`TM restarted: ${inDoubt} decided transfer(s) in doubt in its log; recovery is finishing them`)
    await waitFor(async () => (await preparedLeft(pgPool, mysqlPool, nodeId)).total === 0, 30_000)
    crash = { inDoubtAtRestart: inDoubt, recoveredInMs: Date.now() - restartedAt }
    log(`recovery done in ${crash.recoveredInMs} ms: no prepared branch left on either database`)
  }

  const worker = async (): Promise<void> => {
    while (started < total) {
      const index = started++
      const transfer = randomTransfer(index, accounts)
      const mode = index % 2 === 0 ? 'execute' : 'enlist'
      let outcome: Outcome | undefined
      let detail: string | undefined
      while (!outcome) {
        try {
          await (mode === 'execute'
            ? transferThroughTm(client, transfer)
            : transferWithLocalBranches(client, { pg: pgPool, mysql: mysqlPool }, transfer))
          outcome = 'committed'
        } catch (error) {
          // UNAVAILABLE means the TM was unreachable before any Commit (an
          // interrupted Commit is an OutcomeUnknownError): nothing can have
          // landed, so the same transfer is simply tried again.
          if (error instanceof UnavailableError) {
            await new Promise((r) => setTimeout(r, 200))
            continue
          }
          outcome = classifyOutcome(error)
          detail = error instanceof Error ? error.message.slice(0, 300) : String(error)
        }
      }
      outcomes.set(transfer.id, { outcome, mode, ...(detail !== undefined && { detail }) })
      if (outcome === 'committed') counts.committed++
      else if (outcome === 'unknown') counts.unknown++
      else counts.aborted++
      done++
      options.onProgress?.({ done, total, ...counts })
    }
  }
  // Workers ride out the downtime by retrying what the TM refused (UNAVAILABLE).
  let crashStarted = false
  const crashed =
    crashAfter === undefined
      ? undefined
      : tm.exited().then(() => {
          if (workersDone) return // the TM stopped at the end: not the crash
          crashStarted = true
          return crashAndRecover()
        })
  await Promise.all(Array.from({ length: concurrency }, worker))
  workersDone = true
  if (crashStarted) await crashed // a late crash: let its recovery finish before checking
  if (crashAfter !== undefined && crash === undefined) log('the fail point did not fire: too few transfers crossed the two databases')
  const durationMs = Date.now() - t0

  // Quiescence: every branch finished, then the invariants.
  await waitFor(async () => (await preparedLeft(pgPool, mysqlPool, nodeId)).total === 0, 30_000)
  const left = await preparedLeft(pgPool, mysqlPool, nodeId)
  const totalAfter = await totalBalance(pgPool, mysqlPool)
  const { anomalies, unknown } = await checkBank(pgPool, mysqlPool, outcomes, totalBefore, totalAfter)

  client.close()
  await tm.stop()
  if (options.tmLogFile) writeFileSync(options.tmLogFile, tmLog + tm.logs())
  await tm.destroy()
  await pgPool.end()
  await mysqlPool.end()

  const aborted: Record<string, number> = {}
  const committedByMode = { execute: 0, enlist: 0 }
  for (const { outcome, mode } of outcomes.values()) {
    if (outcome === 'committed') committedByMode[mode]++
    if (outcome.startsWith('aborted:')) aborted[outcome.slice(8)] = (aborted[outcome.slice(8)] ?? 0) + 1
  }
  return {
    transfers: total,
    committed: counts.committed,
    committedByMode,
    aborted,
    unknown,
    totalBefore,
    totalAfter,
    preparedLeft: { pg: left.pg, mysql: left.mysql },
    ...(crash && { crash }),
    anomalies,
    durationMs,
    committedPerSecond: Math.round((counts.committed / durationMs) * 1000),
  }
}

function randomTransfer(index: number, accounts: readonly Account[]): Transfer {
  const from = accounts[Math.floor(Math.random() * accounts.length)]!
  let to = from
  while (to === from) to = accounts[Math.floor(Math.random() * accounts.length)]!
  return { id: `t${index}-${Math.random().toString(36).slice(2, 8)}`, from, to, amount: 1 + Math.floor(Math.random() * 300) }
}

async function waitFor(condition: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) return
    await new Promise((r) => setTimeout(r, 200))
  }
}
