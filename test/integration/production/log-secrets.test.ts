// No secret ever reaches the log: a TM run as a child process at debug level
// with a password in a resource URL, a resource that cannot connect (with
// its own password), bearer tokens, TLS keys and callers sending wrong
// tokens. Its whole output (stdout and stderr) must not hold any of them.
import { readFileSync, rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient, type ArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { httpGet, makeCertificates, type TestCertificates } from './helpers.js'

const PG_PASSWORD = 'pgPassw0rd-SHOULD-NOT-LEAK'
const MARIA_PASSWORD = 'mariaPassw0rd-SHOULD-NOT-LEAK'
const DOWN_PASSWORD = 'downPassw0rd-SHOULD-NOT-LEAK'
// Given as a query parameter, where the drivers take it too: it was logged verbatim (found by hostile testing).
const QUERY_PASSWORD = 'queryPassw0rd-SHOULD-NOT-LEAK'
const MYSQL_QUERY_PASSWORD = 'mysqlQueryPassw0rd-SHOULD-NOT-LEAK'
const APP_TOKEN = 'appToken-SHOULD-NOT-LEAK-0123456789'
const ADMIN_TOKEN = 'adminToken-SHOULD-NOT-LEAK-0123456789'
const WRONG_TOKEN = 'wrongToken-SHOULD-NOT-LEAK-0123456789'

let dbs: TestDatabases
let certs: TestCertificates
let tm: ArbiterProcess
const clients: ArbiterClient[] = []

function withPassword(url: string, password: string): string {
  const u = new URL(url)
  u.username ||= 'postgres'
  u.password = password
  return u.toString()
}

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'logsecrets')
  certs = makeCertificates()
  const config = testConfig(
    [
      // The harness's PostgreSQL trusts local connections: the password is carried but not checked.
      { name: 'pg', kind: 'postgres', url: withPassword(dbs.pgUrl, PG_PASSWORD) },
      // MariaDB checks it: this resource fails to connect (access denied), from the environment.
      { name: 'maria', kind: 'mysql', urlEnv: 'TEST_MARIA_URL' },
      // Nothing listens here: connection refused, retried in the background.
      { name: 'down', kind: 'postgres', url: `postgres://someone:${DOWN_PASSWORD}@127.0.0.1:1/nothing`, connectTimeoutMs: 300 },
      { name: 'downq', kind: 'postgres', url: `postgres://someone@127.0.0.1:1/bank?password=${QUERY_PASSWORD}`, connectTimeoutMs: 300 },
      { name: 'downmy', kind: 'mysql', url: `mysql://someone@127.0.0.1:1/bank?password=${MYSQL_QUERY_PASSWORD}`, connectTimeoutMs: 300 },
    ],
    {
      auth: {
        tokens: [
          { name: 'shop', role: 'application', tokenEnv: 'TEST_APP_TOKEN' },
          { name: 'ops', role: 'admin', token: ADMIN_TOKEN },
        ],
      },
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
    },
  )
  const mariaUrl = new URL(dbs.mysqlUrl)
  mariaUrl.username = 'nosuchuser'
  mariaUrl.password = MARIA_PASSWORD
  tm = await ArbiterProcess.start(config, { ARBITER_LOG_LEVEL: 'trace', TEST_MARIA_URL: mariaUrl.toString(), TEST_APP_TOKEN: APP_TOKEN })
})

afterAll(async () => {
  for (const c of clients) c.close()
  await tm?.destroy()
  await dbs?.close()
  if (certs) rmSync(certs.dir, { recursive: true, force: true })
})

describe('log output', () => {
  it('holds no password, token or TLS key, on success and error paths', async () => {
    const tls = { ca: readFileSync(certs.caFile) }
    const app = createArbiterClient({ address: tm.address, tls, token: APP_TOKEN, defaultDeadlineMs: 5000, outcomeQueryAttempts: 1 })
    const wrong = createArbiterClient({ address: tm.address, tls, token: WRONG_TOKEN, defaultDeadlineMs: 5000, outcomeQueryAttempts: 1 })
    clients.push(app, wrong)
    await app.run([{ resource: 'pg', sql: 'INSERT INTO accounts VALUES (1, 1)' }])
    await app.run([{ resource: 'pg', sql: 'INSERT INTO nope VALUES (1)' }]).catch(() => undefined) // a failing statement
    await app.run([{ resource: 'maria', sql: 'SELECT 1' }]).catch(() => undefined) // an unavailable resource
    await app.run([{ resource: 'down', sql: 'SELECT 1' }]).catch(() => undefined)
    await wrong.run([{ resource: 'pg', sql: 'SELECT 1' }]).catch(() => undefined) // a wrong token
    await app.getTransaction(`${tm.config.nodeId}:01ARZ3NDEKTSV4RRFFQ69G5FAV`).catch(() => undefined)
    // Let the background retries of the broken resources log a few times.
    await new Promise((resolve) => setTimeout(resolve, 1500))
    const metricsAddress = /"address":"([^"]+)"[^\n]*"msg":"metrics listening"/.exec(tm.logs())?.[1]
    expect(metricsAddress).toBeDefined()
    expect((await httpGet(`http://${metricsAddress}/metrics`)).body).not.toContain(PG_PASSWORD)
    await tm.stop()

    const logs = tm.logs()
    // The run did log what happened, and did reach the error paths.
    expect(logs).toMatch(/"msg":"resource not ready, retrying"/)
    expect(logs).toMatch(/"resource":"maria"/)
    expect(logs).toMatch(/"resource":"down"/)
    expect(logs).toMatch(/unknown (or malformed )?bearer token/)
    expect(logs).toMatch(/"url":"postgres:\/\/postgres:\*\*\*@/)
    expect(logs).toContain('"url":"postgres://someone@127.0.0.1:1/bank?password=***"')
    expect(logs).toContain('"url":"mysql://someone@127.0.0.1:1/bank?password=***"')
    for (const secret of [PG_PASSWORD, MARIA_PASSWORD, DOWN_PASSWORD, QUERY_PASSWORD, MYSQL_QUERY_PASSWORD, APP_TOKEN, ADMIN_TOKEN, WRONG_TOKEN]) {
      expect(logs, `${secret} leaked`).not.toContain(secret)
    }
    const keyBody = readFileSync(certs.serverKeyFile, 'utf8').split('\n')[1]!
    expect(logs).not.toContain(keyBody)
    expect(logs).not.toContain('PRIVATE KEY')
    expect(logs).not.toMatch(/authorization"?\s*:\s*"?Bearer/i)
  })
})
