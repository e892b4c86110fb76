// Takeover time (issue #23): two nodes on the postgres store; one of them
// (the victim) is SIGKILLed with in-doubt branches — some of its
// transactions decided and waiting for phase 2, others prepared and waiting
// for their decision (fail points hold them there: server/failpoints.ts) —
// and the clock runs from the SIGKILL until none of its branches is prepared
// in either database (pg_prepared_xacts, XA RECOVER), which the surviving
// node achieves by committing the decided ones and presuming the rest aborted.
// Each round kills a fresh victim (its own node id); the survivor stays.
import type { Pool as MysqlPool } from 'mysql2/promise'
import pg from 'pg'
import { decodeMysqlRecoverRow, decodePgGid, parseGtrid, type MysqlRecoverRow } from '../adapters/xid/xid.js'
import { createArbiterClient } from '../client/index.js'
import { transferThroughTm } from '../examples/bank-transfer/transfer-through-tm.js'
import { createDatabase } from '../test/harness/index.js'
import type { TestResources } from '../test/helpers/test-arbiter.js'
import { median, type TakeoverResult, type TakeoverRound } from './cluster-result.js'
import { benchTmConfig, startBenchTm, type BenchTm } from './tm-process.js'
import { randomTransfer } from './workload.js'

export interface TakeoverInput {
  readonly pgUrl: string
  readonly mysqlUrl: string
  readonly pgPool: pg.Pool
  readonly mysqlPool: MysqlPool
  /** Superuser URL of the store's server (the part makes its own store database there), and where it is, one sentence. */
  readonly storeServerUrl: string
  readonly storeText: string
  readonly resources: TestResources
  readonly accounts: number
  readonly leaseMs: number
  readonly takeoverIntervalMs: number
  readonly rounds: number
  /** The longest event-loop stall a node showed under full load in this run (cluster part), for the lease's rationale. */
  readonly stallMs: number | undefined
  readonly say: (line: string) => void
}

/** Transactions in flight on the victim when it is killed, started this far apart. */
const IN_FLIGHT = 8
const STAGGER_MS = 200
/** Prepared branches wait this long for their decision; decided ones wait for ever for phase 2 (until the kill). */
const FAILPOINTS = 'before-decision=sleep:1200;after-decision=sleep:600000'

/** Why this lease, in one paragraph: what it tolerates, what it costs, and this run's stall figure. */
export function leaseWhy(leaseMs: number, takeoverIntervalMs: number, stallMs: number | undefined): string {
  const renewEvery = Math.max(50, Math.floor(leaseMs / 3))
  const tolerated = leaseMs - renewEvery
  const stall =
    stallMs === undefined
      ? ''
      : ` The longest event-loop stall of a node under full load in this run was ${Math.round(stallMs)} ms, ${stallMs > 0 ? `${(tolerated / stallMs).toFixed(0)}× below that` : 'far below that'}.`
  return (
    `Lease ${leaseMs} ms, renewed every ${renewEvery} ms, takeover scans every ${takeoverIntervalMs} ms. A live node is taken over ` +
    `(its in-flight transactions abort, retryably) only if it, or its round trip to the store, stalls for more than ${tolerated} ms: ` +
    `long GC pauses, a starved CPU, a stalled VM.${stall} In exchange, a dead node's prepared branches hold their row locks ` +
    `for up to about the lease plus one takeover interval and one recovery pass after it dies; ${leaseMs} ms keeps that short ` +
    'for a payment path (the default, 10 s, doubles it) while leaving seconds of margin against stalls.'
  )
}

/** The victim's prepared branches in both databases: their gtrids (each transaction has one branch in each). */
async function preparedOf(nodeId: string, pgPool: pg.Pool, mysqlPool: MysqlPool): Promise<{ branches: number; gtrids: Set<string> }> {
  const gtrids = new Set<string>()
  let branches = 0
  const mine = (gtrid: Buffer | undefined): void => {
    if (!gtrid) return
    try {
      if (parseGtrid(gtrid).nodeId !== nodeId) return
    } catch {
      return // not Arbiter's
    }
    branches++
    gtrids.add(gtrid.toString('utf8'))
  }
  const { rows } = await pgPool.query<{ gid: string }>('SELECT gid FROM pg_prepared_xacts WHERE database = current_database()')
  for (const r of rows) mine(decodePgGid(r.gid)?.gtrid)
  const [xa] = await mysqlPool.query('XA RECOVER')
  for (const r of xa as MysqlRecoverRow[]) mine(decodeMysqlRecoverRow(r)?.gtrid)
  return { branches, gtrids }
}

/** Transfer ids found in each database's ledger. */
async function inLedgers(ids: readonly string[], pgPool: pg.Pool, mysqlPool: MysqlPool): Promise<{ both: number; one: number }> {
  const { rows } = await pgPool.query<{ id: string }>('SELECT DISTINCT transfer_id AS id FROM ledger WHERE transfer_id = ANY($1::text[])', [ids])
  const [m] = await mysqlPool.query('SELECT DISTINCT transfer_id AS id FROM ledger WHERE transfer_id IN (?)', [ids])
  const inPg = new Set(rows.map((r) => r.id))
  const inMysql = new Set((m as { id: string }[]).map((r) => r.id))
  let both = 0
  let one = 0
  for (const id of ids) {
    if (inPg.has(id) && inMysql.has(id)) both++
    else if (inPg.has(id) || inMysql.has(id)) one++
  }
  return { both, one }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

export async function measureTakeover(input: TakeoverInput): Promise<TakeoverResult> {
  const { say } = input
  const why = leaseWhy(input.leaseMs, input.takeoverIntervalMs, input.stallMs)
  say(`takeover: ${why}`)
  const storeDb = await createDatabase(input.storeServerUrl, 'arbiter_takeover')
  const store = new pg.Pool({ connectionString: storeDb, max: 2 })
  store.on('error', () => undefined)
  const onStore = (nodeId: string) =>
    benchTmConfig(input.resources, { nodeId, log: { store: 'postgres', url: storeDb }, cluster: { leaseMs: input.leaseMs, takeoverIntervalMs: input.takeoverIntervalMs } })
  const nodes: BenchTm[] = []
  const rounds: TakeoverRound[] = []
  try {
    const survivor = await startBenchTm(onStore('bench-s'))
    nodes.push(survivor)
    for (let r = 1; r <= input.rounds; r++) {
      const nodeId = `bench-v${r}`
      const victim = await startBenchTm(onStore(nodeId), { env: { ARBITER_FAILPOINTS: FAILPOINTS } })
      nodes.push(victim)
      const client = createArbiterClient({ address: victim.tm.address, defaultDeadlineMs: 30_000, outcomeQueryAttempts: 1 })
      const ids: string[] = []
      const inFlight: Promise<unknown>[] = []
      for (let i = 0; i < IN_FLIGHT; i++) {
        const transfer = randomTransfer(input.accounts)
        ids.push(transfer.id)
        inFlight.push(transferThroughTm(client, transfer).catch(() => undefined)) // it dies with the node
        await sleep(STAGGER_MS)
      }
      // Kill once every transaction has both branches prepared and some, not all, have their decision logged.
      const decidedNow = async (): Promise<number> =>
        Number((await store.query<{ n: string }>("SELECT count(*) AS n FROM arbiter_transactions WHERE owner = $1 AND outcome = 'commit'", [nodeId])).rows[0]?.n ?? 0)
      const waitUntil = performance.now() + 15_000
      for (;;) {
        const p = await preparedOf(nodeId, input.pgPool, input.mysqlPool)
        const decided = await decidedNow()
        if ((p.branches === 2 * IN_FLIGHT && decided >= IN_FLIGHT / 2 && decided < IN_FLIGHT) || performance.now() > waitUntil) break
        await sleep(25)
      }
      const atKill = await preparedOf(nodeId, input.pgPool, input.mysqlPool)
      const killedAt = performance.now()
      const killed = victim.tm.kill()
      const leaseLeft = await store.query<{ ms: number }>(
        'SELECT (extract(epoch FROM lease_expires_at - now()) * 1000)::float8 AS ms FROM arbiter_nodes WHERE node_id = $1',
        [nodeId],
      )
      await killed
      let takenOverMs: number | null = null
      let finishedMs: number | null = null
      const deadline = killedAt + input.leaseMs + 30_000
      while (performance.now() < deadline) {
        if (takenOverMs === null) {
          const t = await store.query('SELECT 1 FROM arbiter_nodes WHERE node_id = $1 AND taken_over_by IS NOT NULL', [nodeId])
          if (t.rowCount === 1) takenOverMs = performance.now() - killedAt
        }
        if ((await preparedOf(nodeId, input.pgPool, input.mysqlPool)).branches === 0) {
          finishedMs = performance.now() - killedAt
          break
        }
        await sleep(50)
      }
      await Promise.allSettled(inFlight)
      client.close()
      const outcomes = await store.query<{ outcome: string; n: string }>(
        'SELECT outcome, count(*) AS n FROM arbiter_transactions WHERE gtrid = ANY($1::text[]) GROUP BY outcome',
        [[...atKill.gtrids]],
      )
      const decided = Number(outcomes.rows.find((o) => o.outcome === 'commit')?.n ?? 0)
      const ledgers = await inLedgers(ids, input.pgPool, input.mysqlPool)
      const round: TakeoverRound = {
        node: nodeId,
        decided,
        undecided: atKill.gtrids.size - decided,
        preparedBranches: atKill.branches,
        leaseLeftMs: leaseLeft.rows[0]?.ms ?? null,
        takenOverMs,
        finishedMs,
        outcomesRight: ledgers.one === 0 && ledgers.both === decided,
      }
      rounds.push(round)
      const ms = (v: number | null): string => (v === null ? 'n/a' : `${Math.round(v)} ms`)
      say(
        `takeover round ${r}/${input.rounds}: killed ${nodeId} with ${round.preparedBranches} prepared branches (${round.decided} decided, ${round.undecided} undecided); ` +
          `lease left ${ms(round.leaseLeftMs)}; taken over after ${ms(takenOverMs)}; all finished after ${ms(finishedMs)}; ` +
          `outcomes ${round.outcomesRight ? 'right' : `WRONG (${ledgers.both} transfers in both ledgers, ${ledgers.one} in one only)`}`,
      )
      await victim.tm.destroy()
    }
    const finished = rounds.map((r) => r.finishedMs).filter((f): f is number => f !== null)
    if (finished.length) say(`takeover: SIGKILL → all finished, median ${Math.round(median(finished))} ms, worst ${Math.round(Math.max(...finished))} ms (lease ${input.leaseMs} ms)`)
    return { store: input.storeText, leaseMs: input.leaseMs, takeoverIntervalMs: input.takeoverIntervalMs, leaseWhy: why, rounds }
  } catch (error) {
    for (const n of nodes) process.stderr.write(`${n.tm.config.nodeId} log tail:\n${n.tm.logs().slice(-2000)}\n`)
    throw error
  } finally {
    await Promise.all(nodes.map((n) => n.tm.destroy().catch(() => undefined)))
    await store.end().catch(() => undefined)
  }
}
