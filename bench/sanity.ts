// After a part of the run: money conserved, and nothing left prepared in
// either database once the TMs have finished in the background.
import type pg from 'pg'
import type { Pool as MysqlPool } from 'mysql2/promise'
import { totalBalance } from '../examples/bank-transfer/schema.js'

/** Prepared branches in the bench's databases (PostgreSQL: this database's; MariaDB: XA RECOVER). */
export async function preparedBranches(pgPool: pg.Pool, mysqlPool: MysqlPool): Promise<number> {
  const { rows } = await pgPool.query<{ n: string }>('SELECT count(*) AS n FROM pg_prepared_xacts WHERE database = current_database()')
  const [xa] = await mysqlPool.query('XA RECOVER')
  return Number(rows[0]?.n ?? 0) + (xa as unknown[]).length
}

export interface Sanity {
  readonly balancesConserved: boolean
  readonly preparedLeft: number
  /** One line for the progress output. */
  readonly text: string
}

/** Waits up to 10 s for the prepared branches to go, then compares the total balance with `before`. */
export async function sanityCheck(pgPool: pg.Pool, mysqlPool: MysqlPool, before: number): Promise<Sanity> {
  for (let i = 0; i < 50 && (await preparedBranches(pgPool, mysqlPool)) > 0; i++) await new Promise((r) => setTimeout(r, 200))
  const preparedLeft = await preparedBranches(pgPool, mysqlPool)
  const after = await totalBalance(pgPool, mysqlPool)
  const balancesConserved = before === after
  return {
    balancesConserved,
    preparedLeft,
    text: `balances ${balancesConserved ? 'conserved' : `NOT conserved (${before} → ${after})`}, ${preparedLeft} prepared branch(es) left`,
  }
}
