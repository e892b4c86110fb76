// A cluster whose nodes advertise an address that accepts connections and
// never answers (a wrong port, a hung proxy). A client that reached the
// nodes at the addresses it was given keeps those routes. Found by hostile
// testing: one lookup of a transaction of a node the client did not know
// read the member list and replaced the working routes with the advertised
// ones, and every later lookup of the client's own transactions waited out
// its whole deadline there (10 s; 30 s with the defaults).
import net from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { newGtrid } from '../../../adapters/index.js'
import { createArbiterClient } from '../../../client/index.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
const nodes: Awaited<ReturnType<typeof startTestArbiter>>[] = []
const sockets: net.Socket[] = []
let tarpit: net.Server

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'routes')
  tarpit = net.createServer((socket) => sockets.push(socket))
  await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve))
})
afterAll(async () => {
  for (const socket of sockets) socket.destroy()
  tarpit?.close()
  await Promise.all(nodes.map((n) => n.stopAndClean()))
  await dbs?.close()
})

describe('routes a client learned', () => {
  it('survive a member list whose advertised addresses do not answer', async () => {
    const storeUrl = await createDatabase(sharedServerUrls().pgUrl, 'routesstore')
    const advertiseAddress = `127.0.0.1:${(tarpit.address() as net.AddressInfo).port}`
    const cluster = { log: { store: 'postgres' as const, url: storeUrl }, cluster: { leaseMs: 1500, takeoverIntervalMs: 300, advertiseAddress } }
    nodes.push(await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], cluster))
    nodes.push(await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], cluster))
    const client = createArbiterClient({ addresses: nodes.map((n) => n.address), defaultDeadlineMs: 10_000 })
    try {
      let gtrid = ''
      await client.transaction(async (tx) => {
        gtrid = tx.gtrid
        await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [1])
      })
      // A transaction of a node this client does not know: it reads the member list.
      await client.getTransaction(newGtrid('elsewhere')).catch(() => undefined)
      const started = performance.now()
      expect((await client.getTransaction(gtrid)).state).toBe('COMMITTED')
      expect(performance.now() - started).toBeLessThan(5_000) // the deadline is 10 s
    } finally {
      client.close()
    }
  })
})
