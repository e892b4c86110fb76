// The nemesis bank test (Jepsen's bank, reliability.md §1 and §d.6):
// concurrent random transfers across PostgreSQL and MariaDB, in both client
// modes, for a fixed time, while a seeded scheduler kills and pauses the TM
// and the databases and kills their sessions. Then: heal, let recovery
// finish, and check every invariant. Used by the CI test and `npm run soak`.
import { writeFileSync } from 'node:fs'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient, InvalidArgumentError, OutcomeUnknownError, TransactionAbortedError, TransactionNotFoundError } from '../../../client/index.js'
import { accountsOf, InsufficientFundsError, type Account } from '../../../examples/bank-transfer/accounts.js'
import { checkBank, preparedLeft, type Outcome } from '../../../examples/bank-transfer/bank-check.js'
import { createBank, totalBalance } from '../../../examples/bank-transfer/schema.js'
import { transferWithLocalBranches } from '../../../examples/bank-transfer/transfer-local-branches.js'
import { transferThroughTm } from '../../../examples/bank-transfer/transfer-through-tm.js'
import { createDatabase, startMariadb, startPostgres, type TestServer } from '../../harness/index.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { FAULT_KINDS, inject, type FaultKind } from './faults.js'
import { prng } from './prng.js'

export interface NemesisOptions {
  readonly seed: number
  readonly durationMs: number
  readonly concurrency?: number
  readonly accountsPerBank?: number
  readonly log?: (line: string) => void
  /** Write the TM's own log (JSON lines, every run of it) here at the end, for diagnosis. */
  readonly tmLogFile?: string
}

export interface NemesisReport {
  readonly seed: number
  readonly transfers: { readonly committed: number; readonly aborted: number; readonly unknown: number }
  readonly unknownResolved: { readonly committed: number; readonly rolledBack: number }
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>
  readonly totalBefore: number
  readonly totalAfter: number
  readonly preparedLeft: number
  readonly anomalies: readonly string[]
}

export async function runNemesis(options: NemesisOptions): Promise<NemesisReport> {
  const log = options.log ?? (() => undefined)
  const random = prng(options.seed)
  const perBank = options.accountsPerBank ?? 8
  const servers: TestServer[] = []
  const cleanups: (() => Promise<unknown>)[] = []
  try {
    const [pgServer, mariadb] = await Promise.all([startPostgres(), startMariadb()])
    servers.push(pgServer, mariadb)
    const pgDbUrl = await createDatabase(pgServer.url, 'nemesis')
    const mysqlDbUrl = await createDatabase(mariadb.url, 'nemesis')
    const pgPool = new pg.Pool({ connectionString: pgDbUrl, max: 20, connectionTimeoutMillis: 3000, query_timeout: 10_000 })
    pgPool.on('error', () => undefined) // idle clients die with their server: expected here
    const mysqlPool = mysql.createPool({ uri: mysqlDbUrl, connectionLimit: 20, connectTimeout: 3000 })
    cleanups.push(() => pgPool.end(), () => mysqlPool.end())
    await createBank(pgPool, mysqlPool, perBank, 1000)
    const totalBefore = await totalBalance(pgPool, mysqlPool)

    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: pgDbUrl, poolSize: 20, connectTimeoutMs: 2000 },
        { name: 'mysql', kind: 'mysql', url: mysqlDbUrl, poolSize: 20, connectTimeoutMs: 2000 },
      ],
      { transactions: { defaultTimeoutMs: 3000, localBranchGraceMs: 1000 } },
    )
    const tm = await ArbiterProcess.start(config)
    cleanups.push(() => tm.destroy())
    const client = createArbiterClient({ address: tm.address, defaultDeadlineMs: 5000, outcomeQueryAttempts: 4 })
    cleanups.push(async () => client.close())

    const accounts: Account[] = [...accountsOf('pg', perBank), ...accountsOf('mysql', perBank)]
    const outcomes = new Map<string, { outcome: Outcome }>()
    const end = Date.now() + options.durationMs
    let n = 0
    const worker = async (): Promise<void> => {
      while (Date.now() < end) {
        const i = n++
        const from = random.pick(accounts)
        let to = random.pick(accounts)
        while (to === from) to = random.pick(accounts)
        const transfer = { id: `n${options.seed}-${i}`, from, to, amount: random.int(1, 50) }
        const outcome = await (i % 2 === 0
          ? transferThroughTm(client, transfer)
          : transferWithLocalBranches(client, { pg: pgPool, mysql: mysqlPool }, transfer)
        ).then(
          (): Outcome => 'committed',
          (error: unknown): Outcome => classify(error),
        )
        outcomes.set(transfer.id, { outcome })
        if (outcome !== 'committed') await new Promise((r) => setTimeout(r, 20)) // no hot loop while something is down
      }
    }

    const faults: Partial<Record<FaultKind, number>> = {}
    const tmLogs: string[] = []
    const nemesis = async (): Promise<void> => {
      while (Date.now() < end - 1500) {
        await new Promise((r) => setTimeout(r, random.int(800, 2500)))
        const kind = random.pick(FAULT_KINDS)
        faults[kind] = (faults[kind] ?? 0) + 1
        log(`nemesis: ${kind}`)
        if (!tm.running) break // it died by itself: reported below
        if (kind === 'tm-kill') tmLogs.push(tm.logs())
        await inject(kind, { tm, pg: pgServer, mariadb, pgDbUrl, mysqlDbUrl }, random)
      }
    }
    await Promise.all([nemesis(), ...Array.from({ length: options.concurrency ?? 8 }, worker)])

    // A TM that died without the nemesis killing it is a bug in itself; restart
    // it so the other invariants can still be checked after recovery.
    const crashedByItself = !tm.running
    if (crashedByItself) {
      tmLogs.push(tm.logs())
      await tm.spawn()
    }
    // Healed (every fault heals itself). Let recovery finish, then check.
    log('healed: waiting for recovery to finish every branch')
    const quiesceBy = Date.now() + 60_000
    while ((await preparedLeft(pgPool, mysqlPool, config.nodeId!)).total > 0 && Date.now() < quiesceBy) {
      await new Promise((r) => setTimeout(r, 250))
    }
    const left = (await preparedLeft(pgPool, mysqlPool, config.nodeId!)).total
    if (left > 0) {
      const { rows } = await pgPool.query('SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database()')
      const [xa] = await mysqlPool.query('XA RECOVER')
      log(`still prepared: pg ${JSON.stringify(rows)} mysql ${JSON.stringify((xa as { data: Buffer }[]).map((r) => r.data.toString('latin1')))}`)
    }
    if (options.tmLogFile) writeFileSync(options.tmLogFile, tmLogs.join('') + tm.logs())
    const totalAfter = await totalBalance(pgPool, mysqlPool)
    const { anomalies, unknown } = await checkBank(pgPool, mysqlPool, outcomes, totalBefore, totalAfter)
    if (left > 0) anomalies.push(`${left} Arbiter branch(es) still prepared 60 s after healing`)
    if (crashedByItself) anomalies.push(`the TM process died by itself: ${lastLines(tmLogs[tmLogs.length - 1] ?? '')}`)
    const count = (p: (o: Outcome) => boolean): number => [...outcomes.values()].filter((o) => p(o.outcome)).length
    return {
      seed: options.seed,
      transfers: { committed: count((o) => o === 'committed'), aborted: count((o) => o.startsWith('aborted:')), unknown: unknown.total },
      unknownResolved: { committed: unknown.committed, rolledBack: unknown.rolledBack },
      faults,
      totalBefore,
      totalAfter,
      preparedLeft: left,
      anomalies,
    }
  } finally {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined)
    await Promise.allSettled(servers.map((s) => s.destroy()))
  }
}

/**
 * Known not applied: an abort, an overdraft, a transaction the restarted TM
 * never heard of, or a refusal before any Commit (UNAVAILABLE, bad input).
 * Anything else (an unknown outcome, a connection error in the middle) is
 * unknown: it must be all or nothing, either way.
 */
function classify(error: unknown): Outcome {
  if (error instanceof InsufficientFundsError) return 'aborted:insufficient funds'
  if (error instanceof TransactionAbortedError) return 'aborted:rolled back'
  if (error instanceof TransactionNotFoundError) return 'aborted:presumed aborted'
  if (error instanceof OutcomeUnknownError) return 'unknown'
  if (error instanceof InvalidArgumentError) return 'aborted:refused'
  if (error instanceof Error && error.name === 'UnavailableError') return 'aborted:TM unavailable before commit'
  return 'unknown'
}

/** One line per figure, for the test's output and the soak command. */
export function formatReport(r: NemesisReport): string {
  const faults = Object.entries(r.faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
  return [
    `nemesis seed ${r.seed}`,
    `  transfers: committed ${r.transfers.committed}, aborted ${r.transfers.aborted}, unknown ${r.transfers.unknown} (after recovery: ${r.unknownResolved.committed} committed, ${r.unknownResolved.rolledBack} rolled back)`,
    `  faults injected: ${faults}`,
    `  total before ${r.totalBefore}, after ${r.totalAfter}; prepared branches left ${r.preparedLeft}`,
    `  anomalies: ${r.anomalies.length}${r.anomalies.length ? '\n    ' + r.anomalies.slice(0, 20).join('\n    ') : ''}`,
  ].join('\n')
}

function lastLines(output: string): string {
  return output.trim().split('\n').slice(-6).join(' | ').slice(0, 600)
}
