// What both demos share (run-demo.ts: one TM; run-cluster-demo.ts: three
// nodes): the bank's databases and accounts, the random transfers run by
// concurrent workers in both client modes, and the tally at the end.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { UnavailableError, type ArbiterClient } from '../../client/index.js'
import { accountsOf, type Account } from './accounts.js'
import { classifyOutcome } from './classify-outcome.js'
import { checkBank, preparedLeft, type Outcome } from './bank-check.js'
import { createBank, totalBalance } from './schema.js'
import { transferThroughTm } from './transfer-through-tm.js'
import { transferWithLocalBranches } from './transfer-local-branches.js'
import type { Transfer } from './transfer.js'

export interface DemoProgress {
  readonly done: number
  readonly total: number
  readonly committed: number
  readonly aborted: number
  readonly unknown: number
}

/** What both demos report at the end. */
export interface BankSummary {
  readonly transfers: number
  readonly committed: number
  readonly committedByMode: { readonly execute: number; readonly enlist: number }
  readonly aborted: Readonly<Record<string, number>>
  /** Transfers whose outcome the client could not learn (the TM died under them), and what they turned out to be. */
  readonly unknown: { readonly total: number; readonly committed: number; readonly rolledBack: number }
  readonly totalBefore: number
  readonly totalAfter: number
  readonly preparedLeft: { readonly pg: number; readonly mysql: number }
  /** Broken invariants; empty when Arbiter kept its promise. */
  readonly anomalies: readonly string[]
  readonly durationMs: number
  readonly committedPerSecond: number
}

/** One transfer as its worker saw it. */
export interface TransferRecord {
  readonly outcome: Outcome
  readonly mode: 'execute' | 'enlist'
  /** The error's own words when it failed (they name the gtrid). */
  readonly detail?: string
  /** The transaction it committed under (its prefix names the TM node). */
  readonly gtrid?: string
  /** When the worker learned the outcome (Date.now()). */
  readonly at: number
}

/**
 * The share of transfers that log a decision: every committed one on the
 * app's own connections (enlist: its local branches are prepared, so even
 * one gets a decision) and, through the TM, the ~half that cross the two
 * databases — about 0.75, less the aborted ones. Counting on a bit fewer
 * makes sure a fail point set on the k-th decision fires, a little before
 * the point aimed at.
 */
export const DECISION_SHARE = 0.65

export interface Bank {
  readonly pgPool: pg.Pool
  readonly mysqlPool: mysql.Pool
  readonly accounts: readonly Account[]
  readonly totalBefore: number
  close(): Promise<void>
}

/** The bank's tables and `perBank` accounts in each database, and the application's own pools. */
export async function openBank(pgUrl: string, mysqlUrl: string, poolSize: number, perBank: number, balance: number): Promise<Bank> {
  const pgPool = new pg.Pool({ connectionString: pgUrl, max: poolSize })
  const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: poolSize })
  pgPool.on('error', () => undefined)
  await createBank(pgPool, mysqlPool, perBank, balance)
  return {
    pgPool,
    mysqlPool,
    accounts: [...accountsOf('pg', perBank), ...accountsOf('mysql', perBank)],
    totalBefore: await totalBalance(pgPool, mysqlPool),
    close: async () => {
      await pgPool.end()
      await mysqlPool.end()
    },
  }
}

export interface WorkloadOptions {
  readonly client: ArbiterClient
  readonly bank: Bank
  readonly total: number
  readonly concurrency: number
  readonly onProgress?: (progress: DemoProgress) => void
}

/** `total` random transfers, `concurrency` at a time, every other one through the TM (execute), the rest on the app's own connections (enlist). */
export class TransferWorkload {
  readonly outcomes = new Map<string, TransferRecord>()
  readonly counts = { committed: 0, aborted: 0, unknown: 0 }
  done = 0
  private started = 0

  constructor(private readonly o: WorkloadOptions) {}

  get total(): number {
    return this.o.total
  }

  async run(): Promise<void> {
    await Promise.all(Array.from({ length: this.o.concurrency }, () => this.worker()))
  }

  private async worker(): Promise<void> {
    const { client, bank, total } = this.o
    const pools = { pg: bank.pgPool, mysql: bank.mysqlPool }
    while (this.started < total) {
      const index = this.started++
      const transfer = randomTransfer(index, bank.accounts)
      const mode = index % 2 === 0 ? 'execute' : 'enlist'
      let outcome: Outcome | undefined
      let detail: string | undefined
      let gtrid: string | undefined
      while (!outcome) {
        try {
          gtrid = await (mode === 'execute' ? transferThroughTm(client, transfer) : transferWithLocalBranches(client, pools, transfer))
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
      this.outcomes.set(transfer.id, { outcome, mode, at: Date.now(), ...(detail !== undefined && { detail }), ...(gtrid !== undefined && { gtrid }) })
      if (outcome === 'committed') this.counts.committed++
      else if (outcome === 'unknown') this.counts.unknown++
      else this.counts.aborted++
      this.done++
      this.o.onProgress?.({ done: this.done, total, ...this.counts })
    }
  }
}

/**
 * Quiescence, then the invariants: waits (up to 30 s) until the nodes
 * `nodeIds` have no prepared branch left, then checks the bank against what
 * the workers were told.
 */
export async function checkAtQuiescence(bank: Bank, work: TransferWorkload, nodeIds: readonly string[], durationMs: number): Promise<BankSummary> {
  await waitFor(async () => (await preparedLeft(bank.pgPool, bank.mysqlPool, nodeIds)).total === 0, 30_000)
  const left = await preparedLeft(bank.pgPool, bank.mysqlPool, nodeIds)
  const totalAfter = await totalBalance(bank.pgPool, bank.mysqlPool)
  const { anomalies, unknown } = await checkBank(bank.pgPool, bank.mysqlPool, work.outcomes, bank.totalBefore, totalAfter)
  return {
    transfers: work.total,
    committed: work.counts.committed,
    ...tally(work.outcomes),
    unknown,
    totalBefore: bank.totalBefore,
    totalAfter,
    preparedLeft: { pg: left.pg, mysql: left.mysql },
    anomalies,
    durationMs,
    committedPerSecond: Math.round((work.counts.committed / durationMs) * 1000),
  }
}

/** Aborted transfers by reason, committed ones by client mode. */
function tally(outcomes: ReadonlyMap<string, TransferRecord>): { aborted: Record<string, number>; committedByMode: { execute: number; enlist: number } } {
  const aborted: Record<string, number> = {}
  const committedByMode = { execute: 0, enlist: 0 }
  for (const { outcome, mode } of outcomes.values()) {
    if (outcome === 'committed') committedByMode[mode]++
    if (outcome.startsWith('aborted:')) aborted[outcome.slice(8)] = (aborted[outcome.slice(8)] ?? 0) + 1
  }
  return { aborted, committedByMode }
}

function randomTransfer(index: number, accounts: readonly Account[]): Transfer {
  const from = accounts[Math.floor(Math.random() * accounts.length)]!
  let to = from
  while (to === from) to = accounts[Math.floor(Math.random() * accounts.length)]!
  return { id: `t${index}-${Math.random().toString(36).slice(2, 8)}`, from, to, amount: 1 + Math.floor(Math.random() * 300) }
}

/** Polls `condition` every `everyMs` until it holds (true) or `timeoutMs` passed (false). */
export async function waitFor(condition: () => Promise<boolean>, timeoutMs: number, everyMs = 200): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (!(await condition())) {
    if (Date.now() > deadline) return false
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return true
}
