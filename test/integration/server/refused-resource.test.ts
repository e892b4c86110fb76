// Issue #21, item 4: a PostgreSQL resource with max_prepared_transactions =
// 0. The node starts without it and says so: one error line in the log,
// Admin.ListResources (REFUSED, with what to set and that a restart is
// needed), /readyz (still 200: the other resources work), and a call that
// touches it gets UNAVAILABLE naming it. It is checked again in the
// background: once the DBA sets the value and restarts PostgreSQL, the
// resource comes back by itself.
import { rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startArbiterServer, type ArbiterServer } from '../../../server/arbiter-server.js'
import { parseConfig } from '../../../server/config.js'
import { createLogger } from '../../../server/logger.js'
import { createDatabase, postgresFromEnvOrStart, whyNotControllable, type TestServer } from '../../harness/index.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'
import { testConfig } from '../../helpers/test-arbiter.js'
import { httpGet } from '../production/helpers.js'

let maxPrepared = 0
let pg: TestServer
let tm: ArbiterServer | undefined
let dataDir = ''
let logs = ''

beforeAll(async () => {
  pg = await postgresFromEnvOrStart({ maxPreparedTransactions: () => maxPrepared })
  if (whyNotControllable(pg) !== undefined) return
  const url = await createDatabase(pg.url, 'refused')
  const config = parseConfig(testConfig([{ name: 'pg', kind: 'postgres', url }]))
  dataDir = config.dataDir
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      logs += chunk.toString()
      callback()
    },
  })
  tm = await startArbiterServer(config, { logger: createLogger({ level: 'info', destination }) })
})

afterAll(async () => {
  await tm?.stop()
  if (dataDir) rmSync(dataDir, { recursive: true, force: true })
  await pg?.destroy()
})

async function resourceState(): Promise<{ state: string; error: string; preparedHeadroom?: number }> {
  const { admin, close } = adminClient(tm!.address)
  try {
    const { resources } = await admin.ListResources({})
    const r = resources.find((x) => x.name === 'pg')!
    return { state: r.state, error: r.error, ...(r.preparedHeadroom !== undefined && { preparedHeadroom: r.preparedHeadroom }) }
  } finally {
    close()
  }
}

describe('a PostgreSQL resource with max_prepared_transactions = 0', () => {
  it('does not hold start-up for the 5 s a resource that is down gets: waiting does not change a refusal', (ctx) => {
    if (whyNotControllable(pg) !== undefined) ctx.skip()
    // Found by a newcomer: every misconfigured start (a refused login, a missing database) paid the whole wait.
    const listening = logs.split('\n').filter((l) => l.includes('"arbiter listening"')).map((l) => JSON.parse(l) as { resourcesMs: number })
    expect(listening.length).toBe(1)
    expect(listening[0]!.resourcesMs).toBeLessThan(3_000)
  })

  it('is refused, says what to do, and comes back by itself once fixed', async (ctx) => {
    const why = whyNotControllable(pg)
    if (why !== undefined) ctx.skip(why)

    const refused = await resourceState()
    expect(refused.state).toBe('RESOURCE_STATE_REFUSED')
    expect(refused.error).toMatch(/max_prepared_transactions is 0; set max_prepared_transactions = 100.*restart the server \(a reload is not enough\)/)
    expect(refused.preparedHeadroom).toBeUndefined()

    const errorLines = logs.split('\n').filter((l) => l.includes('"resource refused'))
    expect(errorLines).toHaveLength(1) // said once, loudly; the checks after it are quiet
    expect(errorLines[0]).toMatch(/"level":50/)
    // Recovery passes every 500 ms cannot scan it either: said once, not once per pass.
    await new Promise((r) => setTimeout(r, 2000))
    expect(logs.split('\n').filter((l) => l.includes('"recovery pass"')).length).toBeLessThanOrEqual(1)

    const ready = await httpGet(`http://${tm!.metricsAddress}/readyz`)
    expect(ready.status).toBe(200)
    expect(ready.body).toMatch(/^ready; without refused resource "pg" \(.*max_prepared_transactions is 0/)

    const { tm: rpc, close } = tmClient(tm!.address)
    try {
      const { gtrid } = await rpc.Begin({})
      const e = await grpcError(rpc.Execute({ gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } }))
      expect(e.code).toBe(status.UNAVAILABLE)
      expect(e.details).toMatch(/^resource "pg" is refused: .*max_prepared_transactions is 0.*checks it again every 10 s/)
      await rpc.Rollback({ gtrid })

      // The DBA sets it and restarts PostgreSQL; nobody touches the TM.
      maxPrepared = 100
      await pg.restart()
      const deadline = Date.now() + 30_000
      while ((await resourceState()).state !== 'RESOURCE_STATE_READY') {
        if (Date.now() > deadline) throw new Error(`still not ready:\n${logs.slice(-2000)}`)
        await new Promise((r) => setTimeout(r, 250))
      }
      expect((await resourceState()).preparedHeadroom).toBe(100)
      expect((await httpGet(`http://${tm!.metricsAddress}/readyz`)).body).toBe('ready\n')
      const again = await rpc.Begin({})
      await rpc.Execute({ gtrid: again.gtrid, statement: { resource: 'pg', sql: 'SELECT 1' } })
      await rpc.Commit({ gtrid: again.gtrid })
    } finally {
      close()
    }
  })
})
