// `npm run -s create-bank`: the quick start's bank. Creates the database
// `bank` on both servers (BANK_PG_URL, BANK_MYSQL_URL) and in each a table
//   accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))
// with accounts 1–10 in PostgreSQL and 1001–1010 in MySQL/MariaDB, 1 000
// each. Safe to run again: what exists is left as it is.
import mysql from 'mysql2/promise'
import pg from 'pg'
import { bankUrls, serverUrl } from './bank-urls.js'

const ACCOUNTS = 'accounts (id int PRIMARY KEY, balance bigint NOT NULL CHECK (balance >= 0))'

async function createPg(url: URL): Promise<void> {
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
  } finally {
    await client.end()
  }
}

async function createMysql(url: URL): Promise<void> {
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
  } finally {
    await conn.end()
  }
}

const urls = bankUrls()
try {
  await Promise.all([createPg(urls.pg), createMysql(urls.mysql)])
  console.log(`bank ready: accounts 1-10 in PostgreSQL (${urls.pg.host}), 1001-1010 in MySQL/MariaDB (${urls.mysql.host}), 1000 each`)
} catch (error) {
  console.error(`create-bank: ${error instanceof Error ? error.message : String(error)} (are the databases running? see README, Quick start)`)
  process.exitCode = 1
}
