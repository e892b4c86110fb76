// The five ways to do one bank transfer (examples/bank-transfer), all on the
// same PostgreSQL and MariaDB databases. Every transfer crosses the two
// databases: a debit in one, a credit in the other, a ledger row in each.
import { randomBytes } from 'node:crypto'
import type pg from 'pg'
import type { Pool as MysqlPool, PoolConnection, ResultSetHeader } from 'mysql2/promise'
import type { ArbiterClient, RunStatement } from '../client/index.js'
import { InsufficientFundsError, MYSQL_ID_OFFSET, type Account } from '../examples/bank-transfer/accounts.js'
import { transferWithLocalBranches } from '../examples/bank-transfer/transfer-local-branches.js'
import { transferThroughTm } from '../examples/bank-transfer/transfer-through-tm.js'
import { balanceUpdate, ledgerInsert, legsInLockOrder, type Transfer } from '../examples/bank-transfer/transfer.js'
import type { Variant } from './result.js'

export interface Workload {
  readonly pgPool: pg.Pool
  readonly mysqlPool: MysqlPool
  readonly accountsPerBank: number
  /** The worker's gRPC client (one of a few channels). */
  readonly clientFor: (worker: number) => ArbiterClient
}

const RUN_ID = randomBytes(3).toString('hex')
let sequence = 0

/** A random cross-database transfer of 1 between two of the many accounts, in a random direction. */
export function randomTransfer(perBank: number): Transfer {
  const a: Account = { bank: 'pg', id: 1 + Math.floor(Math.random() * perBank) }
  const b: Account = { bank: 'mysql', id: MYSQL_ID_OFFSET + 1 + Math.floor(Math.random() * perBank) }
  const [from, to] = Math.random() < 0.5 ? [a, b] : [b, a]
  return { id: `b${RUN_ID}-${(sequence++).toString(36)}`, from, to, amount: 1 }
}

async function pgExec(conn: pg.PoolClient, sql: string, params: (number | string)[]): Promise<number> {
  return (await conn.query(sql, params)).rowCount ?? 0
}

async function mysqlExec(conn: PoolConnection, sql: string, params: (number | string)[]): Promise<number> {
  const [result] = await conn.query<ResultSetHeader>(sql, params)
  return result.affectedRows
}

/** The four statements of a transfer, in lock order, on the two sessions. */
async function transferStatements(pgConn: pg.PoolClient, mysqlConn: PoolConnection, transfer: Transfer): Promise<void> {
  for (const leg of legsInLockOrder(transfer)) {
    const exec = (sql: string, params: (number | string)[]): Promise<number> =>
      leg.account.bank === 'pg' ? pgExec(pgConn, sql, params) : mysqlExec(mysqlConn, sql, params)
    if ((await exec(...balanceUpdate(leg))) === 0) throw new InsufficientFundsError(transfer.from, transfer.amount)
    await exec(...ledgerInsert(transfer.id, leg))
  }
}

async function withSessions<T>(w: Workload, fn: (pgConn: pg.PoolClient, mysqlConn: PoolConnection) => Promise<T>): Promise<T> {
  // Always PostgreSQL first: with pools smaller than the load, a fixed order cannot deadlock.
  const pgConn = await w.pgPool.connect()
  let mysqlConn: PoolConnection
  try {
    mysqlConn = await w.mysqlPool.getConnection()
  } catch (error) {
    pgConn.release()
    throw error
  }
  let broken = false
  try {
    return await fn(pgConn, mysqlConn)
  } catch (error) {
    broken = true
    throw error
  } finally {
    // A session that failed mid-protocol may hold a transaction or an XA branch: never reuse it.
    pgConn.release(broken)
    if (broken) mysqlConn.destroy()
    else mysqlConn.release()
  }
}

/** Two independent local transactions: no atomicity across the databases. The floor. */
async function local(w: Workload, transfer: Transfer): Promise<void> {
  await withSessions(w, async (pgConn, mysqlConn) => {
    await Promise.all([pgConn.query('BEGIN'), mysqlConn.query('START TRANSACTION')])
    await transferStatements(pgConn, mysqlConn, transfer)
    await Promise.all([pgConn.query('COMMIT'), mysqlConn.query('COMMIT')])
  })
}

/**
 * The application's own two-phase commit, no TM and no log: start both
 * branches, run the statements, prepare both in parallel, commit both in
 * parallel on the sessions that prepared them (MariaDB requires it).
 */
async function raw2pc(w: Workload, transfer: Transfer): Promise<void> {
  const gid = `bench-${transfer.id}`
  const xid = `'${gid}'`
  let pgPrepared = false
  let mysqlPrepared = false
  try {
    await withSessions(w, async (pgConn, mysqlConn) => {
      await Promise.all([pgConn.query('BEGIN'), mysqlConn.query(`XA START ${xid}`)])
      await transferStatements(pgConn, mysqlConn, transfer)
      await Promise.all([
        pgConn.query(`PREPARE TRANSACTION '${gid}'`).then((r) => {
          // PostgreSQL answers PREPARE in an aborted block with the tag ROLLBACK and no error.
          if (r.command !== 'PREPARE') throw new Error(`PREPARE TRANSACTION answered ${r.command}`)
          pgPrepared = true
        }),
        mysqlConn
          .query(`XA END ${xid}`)
          .then(() => mysqlConn.query(`XA PREPARE ${xid}`))
          .then(() => {
            mysqlPrepared = true
          }),
      ])
      await Promise.all([pgConn.query(`COMMIT PREPARED '${gid}'`), mysqlConn.query(`XA COMMIT ${xid}`)])
      pgPrepared = mysqlPrepared = false
    })
  } catch (error) {
    // Failure before the "decision": roll back what got prepared (sessions were destroyed, so MariaDB's branch detached).
    await Promise.allSettled([
      pgPrepared ? w.pgPool.query(`ROLLBACK PREPARED '${gid}'`) : undefined,
      mysqlPrepared ? w.mysqlPool.query(`XA ROLLBACK ${xid}`) : undefined,
    ])
    throw error
  }
}

function oneShotStatements(transfer: Transfer): RunStatement[] {
  return legsInLockOrder(transfer).flatMap((leg) => {
    const [updateSql, updateParams] = balanceUpdate(leg)
    const [insertSql, insertParams] = ledgerInsert(transfer.id, leg)
    return [
      { resource: leg.account.bank, sql: updateSql, params: updateParams },
      { resource: leg.account.bank, sql: insertSql, params: insertParams },
    ]
  })
}

/** One transfer done the given way; rejects when it did not commit. */
export async function runTransfer(variant: Variant, w: Workload, worker: number, transfer: Transfer): Promise<void> {
  switch (variant) {
    case 'local':
      return local(w, transfer)
    case 'raw-2pc':
      return raw2pc(w, transfer)
    case 'tm-execute':
      await transferThroughTm(w.clientFor(worker), transfer)
      return
    case 'tm-enlist':
      await transferWithLocalBranches(w.clientFor(worker), { pg: w.pgPool, mysql: w.mysqlPool }, transfer)
      return
    case 'tm-run': {
      // The one-shot call cannot look at a row count between statements; balances are far above what a run can spend.
      await w.clientFor(worker).run(oneShotStatements(transfer), { timeoutMs: 10_000 })
      return
    }
  }
}

/** A short, stable name for why a transfer failed (ids and numbers stripped). */
export function failureReason(error: unknown): string {
  if (!(error instanceof Error)) return String(error).slice(0, 80)
  const code = (error as { code?: unknown }).code
  const head = `${error.name}${typeof code === 'string' ? ` ${code}` : ''}`
  const message = error.message
    .replace(/[0-9a-z]+:[0-9A-HJKMNP-TV-Z]{26}/g, '<gtrid>')
    .replace(/'[^']*'/g, "'…'")
    .replace(/\d+/g, 'N')
    .slice(0, 90)
  return `${head}: ${message}`
}
