// A client given a node that is not of the transaction's deployment: a node
// on its own log, or a cluster node whose store never had the transaction's
// node as a member. Such a node knows nothing of the transaction and must
// not answer NOT_FOUND, which reads as presumed aborted. Found by hostile
// testing: a client given [other deployment's node, the node that committed]
// was told TransactionNotFoundError for a transaction committed on both
// databases. Now that node answers TM_WRONG_NODE ("cannot answer for"), and
// the client asks the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../../client/index.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'

describe('a node of another deployment in the address list', () => {
  let dbs: TestDatabases
  let other: TestDatabases
  const servers: Awaited<ReturnType<typeof startTestArbiter>>[] = []

  beforeAll(async () => {
    dbs = await createTestDatabases(sharedServerUrls(), 'foreigna')
    other = await createTestDatabases(sharedServerUrls(), 'foreignb')
  })
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stopAndClean()))
    await dbs?.close()
    await other?.close()
  })

  async function committedOn(address: string, id: number): Promise<string> {
    const client = createArbiterClient({ addresses: [address] })
    try {
      let gtrid = ''
      await client.transaction(async (tx) => {
        gtrid = tx.gtrid
        await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [id])
        await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [id])
      })
      return gtrid
    } finally {
      client.close()
    }
  }

  const resources = (d: TestDatabases) => [
    { name: 'pg', kind: 'postgres' as const, url: d.pgUrl },
    { name: 'maria', kind: 'mysql' as const, url: d.mysqlUrl },
  ]

  it('listed first, it is passed over: the outcome comes from the node that holds the transaction', async () => {
    const home = await startTestArbiter(resources(dbs))
    const stranger = await startTestArbiter(resources(other))
    const store = await createDatabase(sharedServerUrls().pgUrl, 'foreignstore')
    const clusterNode = await startTestArbiter(resources(other), { log: { store: 'postgres', url: store }, cluster: { leaseMs: 1500, takeoverIntervalMs: 300 } })
    servers.push(home, stranger, clusterNode)
    const gtrid = await committedOn(home.address, 1)
    expect(await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 1')).toHaveLength(1)

    for (const foreign of [stranger, clusterNode]) {
      // The foreign node itself: not NOT_FOUND (presumed aborted), but "not mine to answer".
      const raw = tmClient(foreign.address)
      try {
        const refused = await grpcError(raw.tm.GetTransaction({ gtrid }))
        expect(refused.details).toMatch(/which this node cannot answer for/)
      } finally {
        raw.close()
      }
      // A client given it first still learns the truth from the node that committed.
      const client = createArbiterClient({ addresses: [foreign.address, home.address] })
      try {
        expect((await client.getTransaction(gtrid)).state).toBe('COMMITTED')
      } finally {
        client.close()
      }
    }
  })
})
