// `npm run -s create-bank`: the quick start's bank. Creates the database
// `bank` on both servers (BANK_PG_URL, BANK_MYSQL_URL) and in each a table
//   accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))
// with accounts 1–10 in PostgreSQL and 1001–1010 in MySQL/MariaDB, 1 000
// each. Safe to run again: what exists is left as it is.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { bankUrls, serverUrl } from './bank-urls.js'

const ACCOUNTS = 'accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))'

/** Creates what is missing; answers the sum of the balances there now (a re-run changes nothing). */
async function createPg(url: URL): Promise<number> {
  const database = url.pathname.slice(1)
  const admin = new pg.Client({ connectionString: serverUrl(url, 'postgres') })
  await admin.connect()
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [database])
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${database.replace(/"/g, '""')}"`)
  } finally {
    await admin.end()
  }
  const client = new pg.Client({ connectionString: url.toString() })
  await client.connect()
  try {
    await client.query(`CREATE TABLE IF NOT EXISTS ${ACCOUNTS}`)
    await client.query('INSERT INTO accounts (id, balance) SELECT id, 1000 FROM generate_series(1, 10) AS id ON CONFLICT (id) DO NOTHING')
    return Number((await client.query<{ total: string }>('SELECT sum(balance)::text AS total FROM accounts WHERE id BETWEEN 1 AND 10')).rows[0]!.total)
  } finally {
    await client.end()
  }
}

async function createMysql(url: URL): Promise<number> {
  const database = url.pathname.slice(1)
  const admin = await mysql.createConnection({ uri: serverUrl(url, '') })
  try {
    await admin.query(`CREATE DATABASE IF NOT EXISTS \`${database.replace(/`/g, '``')}\``)
  } finally {
    await admin.end()
  }
  const conn = await mysql.createConnection({ uri: url.toString() })
  try {
    await conn.query(`CREATE TABLE IF NOT EXISTS ${ACCOUNTS} ENGINE=InnoDB`)
    await conn.query('INSERT IGNORE INTO accounts (id, balance) VALUES ?', [Array.from({ length: 10 }, (_, i) => [1001 + i, 1000])])
    const [rows] = await conn.query('SELECT CAST(sum(balance) AS CHAR) AS total FROM accounts WHERE id BETWEEN 1001 AND 1010')
    return Number((rows as { total: string }[])[0]!.total)
  } finally {
    await conn.end()
  }
}

const urls = bankUrls()
try {
  const [pgTotal, mysqlTotal] = await Promise.all([createPg(urls.pg), createMysql(urls.mysql)])
  // Found by a newcomer: a re-run said "1000 each" over balances that transfers had moved.
  const fresh = pgTotal === 10_000 && mysqlTotal === 10_000
  console.log(
    `bank ready: accounts 1-10 in PostgreSQL (${urls.pg.host}), 1001-1010 in MySQL/MariaDB (${urls.mysql.host}), ` +
      (fresh ? '1000 each' : `left as they were (totals ${pgTotal} and ${mysqlTotal}, ${pgTotal + mysqlTotal} in all)`),
  )
} catch (error) {
  console.error(`create-bank: ${error instanceof Error ? error.message : String(error)} (are the databases running? see README, Quick start)`)
  process.exitCode = 1
}
