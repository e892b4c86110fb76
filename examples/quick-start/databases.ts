// `npm run -s databases`: the quick start's databases without Docker, from
// the Debian packages the tests use (postgresql, mariadb-server):
// PostgreSQL and MariaDB on the ports and with the passwords of BANK_PG_URL
// and BANK_MYSQL_URL (by default docker-compose.yml's: 5434 and 3308,
// password "arbiter"), in temporary folders. Runs until Ctrl-C, which stops
// both and deletes their data.
import mysql from 'mysql2/promise'
import { ensureServers } from '../../test/harness/ensure-servers.js'
import { startMariadb, startPostgres, type TestServer } from '../../test/harness/index.js'
import { bankUrls } from './bank-urls.js'

async function main(): Promise<number> {
  const urls = bankUrls()
  if (ensureServers({ who: 'the quick start', rerun: 'npm run -s databases' }) !== 0) return 1
  const servers: TestServer[] = []
  try {
    const [pg, maria] = await Promise.all([startPostgres({ port: Number(urls.pg.port || 5432) }), startMariadb({ port: Number(urls.mysql.port || 3306) })])
    servers.push(pg, maria)
    // PostgreSQL trusts local connections here, so any password works; MariaDB's root gets the URL's.
    const password = decodeURIComponent(urls.mysql.password)
    if (password !== '') {
      const conn = await mysql.createConnection({ host: '127.0.0.1', port: maria.port, user: 'root' })
      try {
        // The account this TCP connection from 127.0.0.1 logged in as. (MariaDB 10.11 answers
        // ALTER USER CURRENT_USER() IDENTIFIED BY … with OK and leaves the password empty.)
        await conn.query('SET PASSWORD = PASSWORD(?)', [password])
      } finally {
        await conn.end()
      }
    }
    console.log(`PostgreSQL on 127.0.0.1:${pg.port} (max_prepared_transactions = 100), MariaDB on 127.0.0.1:${maria.port}`)
    console.log('databases ready; Ctrl-C stops them and deletes their data')
  } catch (error) {
    console.error(`databases: ${error instanceof Error ? error.message : String(error)}`)
    await Promise.allSettled(servers.map((s) => s.destroy()))
    return 1
  }
  await new Promise<void>((resolve) => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => resolve())
  })
  await Promise.allSettled(servers.map((s) => s.destroy()))
  console.log('databases stopped and deleted')
  return 0
}

process.exitCode = await main()
