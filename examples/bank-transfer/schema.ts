// The bank's tables, the same in both databases: balances that may never go
// negative, and a ledger row per transfer and account, so a checker can see
// that each transfer landed in both databases or in neither.
import type pg from 'pg'
import type { Pool as MysqlPool } from 'mysql2/promise'
import { accountsOf } from './accounts.js'

const PG_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))',
  'CREATE TABLE IF NOT EXISTS ledger (transfer_id text NOT NULL, account_id int NOT NULL, delta bigint NOT NULL, PRIMARY KEY (transfer_id, account_id))',
]

const MYSQL_SCHEMA = [
  'CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0)) ENGINE=InnoDB',
  'CREATE TABLE IF NOT EXISTS ledger (transfer_id varchar(64) NOT NULL, account_id int NOT NULL, delta bigint NOT NULL, PRIMARY KEY (transfer_id, account_id)) ENGINE=InnoDB',
]

/** Creates the tables and opens `perBank` accounts with `balance` each, in each database. */
export async function createBank(pgPool: pg.Pool, mysqlPool: MysqlPool, perBank: number, balance: number): Promise<void> {
  for (const sql of PG_SCHEMA) await pgPool.query(sql)
  for (const sql of MYSQL_SCHEMA) await mysqlPool.query(sql)
  const pgIds = accountsOf('pg', perBank).map((a) => a.id)
  const mysqlIds = accountsOf('mysql', perBank).map((a) => a.id)
  await pgPool.query('INSERT INTO accounts (id, balance) SELECT id, $2 FROM unnest($1::int[]) AS id', [pgIds, balance])
  await mysqlPool.query('INSERT INTO accounts (id, balance) VALUES ?', [mysqlIds.map((id) => [id, balance])])
}

/** The sum of every balance in both databases. */
export async function totalBalance(pgPool: pg.Pool, mysqlPool: MysqlPool): Promise<number> {
  const { rows } = await pgPool.query<{ total: string | null }>('SELECT sum(balance) AS total FROM accounts')
  const [mysqlRows] = await mysqlPool.query('SELECT sum(balance) AS total FROM accounts')
  return Number(rows[0]?.total ?? 0) + Number((mysqlRows as { total: string | null }[])[0]?.total ?? 0)
}

/** Every transfer id in each database's ledger, with the sum of its deltas there. */
export async function ledgers(pgPool: pg.Pool, mysqlPool: MysqlPool): Promise<{ pg: Map<string, number>; mysql: Map<string, number> }> {
  const { rows } = await pgPool.query<{ transfer_id: string; delta: string }>('SELECT transfer_id, sum(delta) AS delta FROM ledger GROUP BY transfer_id')
  const [mysqlRows] = await mysqlPool.query('SELECT transfer_id, sum(delta) AS delta FROM ledger GROUP BY transfer_id')
  return {
    pg: new Map(rows.map((r) => [r.transfer_id, Number(r.delta)])),
    mysql: new Map((mysqlRows as { transfer_id: string; delta: string }[]).map((r) => [r.transfer_id, Number(r.delta)])),
  }
}
