// The nemesis bank test (Jepsen's bank, reliability.md §1 and §d.6):
// concurrent random transfers across PostgreSQL and MariaDB, in both client
// modes, for a fixed time, while a seeded scheduler kills, pauses and
// gracefully restarts the TM, kills and pauses the databases and kills their
// sessions; on one node with its file log, or on a cluster of nodes sharing
// a PostgreSQL store (then the store is killed and paused too, and nodes are
// frozen past their lease and taken over). Then: heal, let recovery finish,
// and check every invariant; and that the transfers only graceful restarts
// touched all got their true outcome. Used by the CI test and `npm run soak`.
import { writeFileSync } from 'node:fs'
import pg from 'pg'
import mysql from 'mysql2/promise'
import {
  ArbiterError,
  createArbiterClient,
  InvalidArgumentError,
  OutcomeUnknownError,
  TransactionAbortedError,
  TransactionNotFoundError,
  UnavailableError,
} from '../../../client/index.js'
import { accountsOf, InsufficientFundsError, type Account } from '../../../examples/bank-transfer/accounts.js'
import { checkBank, preparedLeft, type Outcome } from '../../../examples/bank-transfer/bank-check.js'
import { createBank, totalBalance } from '../../../examples/bank-transfer/schema.js'
import { transferWithLocalBranches } from '../../../examples/bank-transfer/transfer-local-branches.js'
import { transferThroughTm } from '../../../examples/bank-transfer/transfer-through-tm.js'
import { createDatabase, startMariadb, startPostgres, type TestServer } from '../../harness/index.js'
import { runFaults, type FaultWindow } from './fault-scheduler.js'
import { AFTERMATH_MS, faultKinds, GRACEFUL_FAULTS, type FaultKind } from './faults.js'
import { prng } from './prng.js'
import { startTmNodes, type ClusterShape } from './tm-nodes.js'

/** A pg client that never crashes the process with an unheard 'error' (its session is killed on purpose here). */
class ListeningClient extends pg.Client {
  constructor(config?: string | pg.ClientConfig) {
    super(config)
    this.on('error', () => undefined)
  }
}

export interface NemesisOptions {
  readonly seed: number
  readonly durationMs: number
  readonly concurrency?: number
  readonly accountsPerBank?: number
  readonly log?: (line: string) => void
  /** Write the TM's own log (JSON lines, every run of it) here at the end, for diagnosis. */
  readonly tmLogFile?: string
  /** Several nodes on a shared PostgreSQL store; one node on its file log when absent. */
  readonly cluster?: ClusterShape
  /** Faults in flight at once (default 2), and each stream's wait between its faults (ms). */
  readonly faultStreams?: number
  readonly faultGapMs?: readonly [number, number]
  /**
   * Past durationMs the run goes on (up to maxDurationMs) until this says
   * enough, given what it has covered so far: CI sizes the run by coverage,
   * not by a time a busy machine may not fill.
   */
  readonly enough?: (covered: Coverage) => boolean
  readonly maxDurationMs?: number
}

/** Transfers the TM took (not those refused unsent), and faults injected. */
export interface Coverage {
  readonly transfers: number
  readonly faults: number
}

export interface NemesisReport {
  readonly seed: number
  /** "1 node, file store" or "3 nodes, postgres store". */
  readonly shape: string
  readonly durationMs: number
  /** `unrun`: refused before the TM took them (its node down or draining): not counted as aborted. */
  readonly transfers: { readonly committed: number; readonly aborted: number; readonly unknown: number; readonly unrun: number }
  readonly unknownResolved: { readonly committed: number; readonly rolledBack: number }
  readonly faults: Readonly<Partial<Record<FaultKind, number>>>
  /**
   * The transfers no fault but graceful restarts touched (none began or
   * ended during another fault or within AFTERMATH_MS after it healed), how
   * many of them ran across a graceful restart, and those that ended unknown
   * or UnavailableError after their request was sent (must be none).
   */
  readonly clean: { readonly transfers: number; readonly acrossGracefulRestart: number; readonly casualties: readonly string[] }
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
    // The nemesis kills these sessions at any moment: a client between two of its owners' listeners (pg's
    // idle listener, a transfer's own) must not take the test process down with an 'error' nobody hears
    // (seen in 1 of 4 full runs: "terminating connection due to administrator command", uncaught).
    // Every client carries a listener of its own from its creation; the calls still reject as they should.
    const pgPool = new pg.Pool({ connectionString: pgDbUrl, max: 20, connectionTimeoutMillis: 3000, query_timeout: 10_000, Client: ListeningClient })
    pgPool.on('error', () => undefined) // idle clients die with their server: expected here
    const mysqlPool = mysql.createPool({ uri: mysqlDbUrl, connectionLimit: 20, connectTimeout: 3000 })
    cleanups.push(() => pgPool.end(), () => mysqlPool.end())
    await createBank(pgPool, mysqlPool, perBank, 1000)
    const totalBefore = await totalBalance(pgPool, mysqlPool)

    const tms = await startTmNodes(
      [
        { name: 'pg', kind: 'postgres', url: pgDbUrl, poolSize: 20, connectTimeoutMs: 2000 },
        { name: 'mysql', kind: 'mysql', url: mysqlDbUrl, poolSize: 20, connectTimeoutMs: 2000 },
      ],
      { transactions: { defaultTimeoutMs: 3000, localBranchGraceMs: 1000 } },
      options.cluster,
    )
    cleanups.push(() => tms.destroy())
    const { nodes } = tms
    // One client per node; transfer i goes to node i mod n (the client across nodes is part 2 of the cluster).
    const clients = nodes.map((tm) => createArbiterClient({ address: tm.address, defaultDeadlineMs: 5000, outcomeQueryAttempts: 4 }))
    cleanups.push(async () => clients.forEach((c) => c.close()))

    const accounts: Account[] = [...accountsOf('pg', perBank), ...accountsOf('mysql', perBank)]
    const outcomes = new Map<string, TransferRecord>()
    const startedAt = Date.now()
    const end = startedAt + options.durationMs
    const maxEnd = startedAt + Math.max(options.durationMs, options.maxDurationMs ?? 0)
    const covered = { transfers: 0, faults: 0 }
    /** True while the run goes on, `marginMs` from now. */
    const running = (marginMs = 0): boolean => {
      const at = Date.now() + marginMs
      return at < end || (at < maxEnd && options.enough !== undefined && !options.enough(covered))
    }
    let n = 0
    const worker = async (): Promise<void> => {
      while (running()) {
        const i = n++
        const from = random.pick(accounts)
        let to = random.pick(accounts)
        while (to === from) to = random.pick(accounts)
        const transfer = { id: `n${options.seed}-${i}`, from, to, amount: random.int(1, 50) }
        const start = Date.now()
        const client = clients[i % clients.length]!
        const told = await (i % 2 === 0
          ? transferThroughTm(client, transfer)
          : transferWithLocalBranches(client, { pg: pgPool, mysql: mysqlPool }, transfer)
        ).then(
          (): Told => ({ outcome: 'committed' }),
          (error: unknown): Told => classify(error),
        )
        outcomes.set(transfer.id, { ...told, mode: i % 2 === 0 ? 'through TM' : 'local branches', start, end: Date.now() })
        if (told.outcome !== UNRUN) covered.transfers++
        if (told.outcome !== 'committed') await new Promise((r) => setTimeout(r, 20)) // no hot loop while something is down
      }
    }

    const tmLogs: string[] = []
    const schedule = runFaults({
      kinds: faultKinds(options.cluster !== undefined),
      streams: options.faultStreams ?? 2,
      gapMs: options.faultGapMs ?? [300, 1500],
      gracefulEveryMs: 25_000,
      going: () => running(1500),
      onInjected: () => covered.faults++,
      startedAt,
      random,
      log,
      targets: {
        nodes,
        pg: pgServer,
        mariadb,
        pgDbUrl,
        mysqlDbUrl,
        ...(tms.store && { store: tms.store }),
        saveTmLogs: (tm, output) => tmLogs.push(output),
      },
    })
    const [{ counts: faults, windows, failures: faultFailures }] = await Promise.all([schedule, ...Array.from({ length: options.concurrency ?? 8 }, worker)])

    // A TM that died without the nemesis killing it is a bug in itself; restart
    // it so the other invariants can still be checked after recovery.
    const crashedByItself = nodes.filter((tm) => !tm.running)
    for (const tm of crashedByItself) {
      tmLogs.push(tm.logs())
      await tm.spawn()
    }
    // Healed (every fault heals itself). Let recovery finish, then check.
    log('healed: waiting for recovery to finish every branch')
    const quiesceBy = Date.now() + 60_000
    const prepared = async (): Promise<number> => {
      let total = 0
      for (const tm of nodes) total += (await preparedLeft(pgPool, mysqlPool, tm.config.nodeId!)).total
      return total
    }
    while ((await prepared()) > 0 && Date.now() < quiesceBy) {
      await new Promise((r) => setTimeout(r, 250))
    }
    const left = await prepared()
    if (left > 0) {
      const { rows } = await pgPool.query('SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database()')
      const [xa] = await mysqlPool.query('XA RECOVER')
      log(`still prepared: pg ${JSON.stringify(rows)} mysql ${JSON.stringify((xa as { data: Buffer }[]).map((r) => r.data.toString('latin1')))}`)
    }
    if (options.tmLogFile) writeFileSync(options.tmLogFile, tmLogs.join('') + nodes.map((tm) => tm.logs()).join(''))
    const totalAfter = await totalBalance(pgPool, mysqlPool)
    const { anomalies, unknown } = await checkBank(pgPool, mysqlPool, outcomes, totalBefore, totalAfter)
    if (left > 0) anomalies.push(`${left} Arbiter branch(es) still prepared 60 s after healing`)
    for (const tm of crashedByItself) anomalies.push(`TM node ${tm.config.nodeId} died by itself: ${lastLines(tmLogs[tmLogs.length - 1] ?? '')}`)
    for (const failure of faultFailures) anomalies.push(`fault ${failure}`)
    const clean = judgeClean(outcomes, windows, startedAt)
    anomalies.push(...clean.casualties.map((c) => `after only graceful restarts (or none): ${c}`))
    const count = (p: (o: Outcome) => boolean): number => [...outcomes.values()].filter((o) => p(o.outcome)).length
    return {
      seed: options.seed,
      shape: options.cluster ? `${nodes.length} nodes, postgres store` : '1 node, file store',
      durationMs: Date.now() - startedAt,
      transfers: {
        committed: count((o) => o === 'committed'),
        aborted: count((o) => o.startsWith('aborted:') && o !== UNRUN),
        unknown: unknown.total,
        unrun: count((o) => o === UNRUN),
      },
      unknownResolved: { committed: unknown.committed, rolledBack: unknown.rolledBack },
      faults,
      clean,
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

/** Refused before the TM took it (not sent: the node was down; or refused by a draining node). */
const UNRUN = 'aborted:TM unavailable before it took the request'

/** What the caller was told; `casualty` when a graceful restart alone must not have caused it. */
interface Told {
  readonly outcome: Outcome
  /** The error's own words (they name the gtrid). */
  readonly detail?: string
  readonly casualty?: string
}

interface TransferRecord extends Told {
  readonly mode: 'through TM' | 'local branches'
  /** Date.now() when the transfer began and when its caller had the answer. */
  readonly start: number
  readonly end: number
}

/**
 * Known not applied: an abort, an overdraft, a transaction the restarted TM
 * never heard of, or a refusal before any Commit (UNAVAILABLE, bad input).
 * Anything else (an unknown outcome, a connection error in the middle) is
 * unknown: it must be all or nothing, either way.
 */
function classify(error: unknown): Told {
  const gtrid = error instanceof ArbiterError && error.gtrid ? ` (${error.gtrid})` : ''
  const detail = error instanceof Error ? `${error.name}${gtrid}: ${error.message}` : String(error)
  if (error instanceof InsufficientFundsError) return { outcome: 'aborted:insufficient funds' }
  if (error instanceof TransactionAbortedError) return { outcome: 'aborted:rolled back', detail }
  if (error instanceof TransactionNotFoundError) return { outcome: 'aborted:presumed aborted', detail }
  if (error instanceof OutcomeUnknownError) return { outcome: 'unknown', detail, casualty: 'outcome unknown' }
  if (error instanceof InvalidArgumentError) return { outcome: 'aborted:refused', detail }
  if (error instanceof UnavailableError) {
    // Refused unrun (never sent, or a Begin the draining TM refused) is an
    // honest answer; UNAVAILABLE for a request the TM took is not.
    const unrun = error.metadata.notSent === 'true' || error.metadata.draining === 'true'
    return { outcome: unrun ? UNRUN : 'aborted:TM unavailable before commit', detail, ...(!unrun && { casualty: 'UnavailableError after the request was sent' }) }
  }
  return { outcome: 'unknown', detail, casualty: 'unexpected error' }
}

/**
 * The transfers no fault but a graceful restart touched (from their start
 * to their end, each other fault counts until AFTERMATH_MS after it healed):
 * every one must end committed or aborted, never unknown or UNAVAILABLE
 * after its request was sent.
 */
function judgeClean(outcomes: ReadonlyMap<string, TransferRecord>, windows: readonly FaultWindow[], startedAt: number): NemesisReport['clean'] {
  const overlaps = (t: TransferRecord, w: FaultWindow): boolean => t.start <= w.end + (GRACEFUL_FAULTS.has(w.kind) ? 0 : AFTERMATH_MS) && t.end >= w.start
  const at = (ms: number): number => ms - startedAt
  let transfers = 0
  let acrossGracefulRestart = 0
  const casualties: string[] = []
  for (const [id, t] of outcomes) {
    const touching = windows.filter((w) => overlaps(t, w))
    if (touching.some((w) => !GRACEFUL_FAULTS.has(w.kind))) continue
    transfers++
    if (touching.length > 0) acrossGracefulRestart++
    if (t.casualty === undefined) continue
    const around = touching.map((w) => `${w.kind} ${at(w.start)}..${at(w.end)} ms`).join(', ') || 'no fault'
    casualties.push(`${id} (${t.mode}, ${at(t.start)}..${at(t.end)} ms, ${around}): ${t.casualty}: ${t.detail ?? ''}`)
  }
  return { transfers, acrossGracefulRestart, casualties }
}

/** One line per figure, for the test's output and the soak command. */
export function formatReport(r: NemesisReport): string {
  const faults = Object.entries(r.faults).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'
  return [
    `nemesis seed ${r.seed}: ${r.shape}, ${Math.round(r.durationMs / 1000)} s`,
    `  transfers: committed ${r.transfers.committed}, aborted ${r.transfers.aborted}, unknown ${r.transfers.unknown} (after recovery: ${r.unknownResolved.committed} committed, ${r.unknownResolved.rolledBack} rolled back); refused unrun (node down or draining) ${r.transfers.unrun}`,
    `  faults injected: ${faults}`,
    `  transfers only graceful restarts touched (or none): ${r.clean.transfers}, ${r.clean.acrossGracefulRestart} across a restart; unknown or unavailable after sending: ${r.clean.casualties.length}`,
    `  total before ${r.totalBefore}, after ${r.totalAfter}; prepared branches left ${r.preparedLeft}`,
    `  anomalies: ${r.anomalies.length}${r.anomalies.length ? '\n    ' + r.anomalies.slice(0, 20).join('\n    ') : ''}`,
  ].join('\n')
}

function lastLines(output: string): string {
  return output.trim().split('\n').slice(-6).join(' | ').slice(0, 600)
}
