// A node's claim on its node id at each kind of resource (adapters/node-id-
// claim.ts), on the real servers: one live holder per id, the holder named
// to the one refused, freed when its session ends however it ends, and
// scoped to what recovery scans there (a PostgreSQL database, a MariaDB
// server, a Redis prefix).
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Redis } from 'ioredis'
import { MysqlAdapter } from '../../../adapters/mysql/mysql-adapter.js'
import { isNodeIdInUse, nodeIdLockKey, type NodeIdClaim } from '../../../adapters/node-id-claim.js'
import { ARBITER_FORMAT_ID } from '../../../adapters/xid/xid.js'
import { PostgresAdapter } from '../../../adapters/postgres/postgres-adapter.js'
import { RedisAdapter } from '../../../adapters/redis/redis-adapter.js'
import type { ResourceAdapter } from '../../../adapters/types.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import pg from 'pg'
import { eventually } from './adapter-test-helpers.js'
import { mysqlConn, pgClient } from './sql-dialects.js'

const RUN = Math.random().toString(36).slice(2, 8)
let n = 0
/** A node id no other test file uses. */
const freshNodeId = (): string => `claim${RUN}x${++n}`

interface Kind {
  readonly label: string
  /** An adapter on the same database / server / prefix each time (a second TM's view of the same resource). */
  adapter(): ResourceAdapter
  /** The same server, another scope recovery never shares (another database or prefix); undefined where the scope is the server. */
  elsewhere?(): ResourceAdapter
  /** What the refusal says of the holder. */
  readonly holder: RegExp
  /** Ends the claim's session from the server's side, as an operator or a server restart would. */
  killClaimSession(nodeId: string): Promise<void>
  /** Takes the id as another TM process would (the server's own primitive); resolves to its release. */
  holdAsAnotherTm(nodeId: string): Promise<() => Promise<void>>
}

const open: ResourceAdapter[] = []
const held: NodeIdClaim[] = []
const track = (a: ResourceAdapter): ResourceAdapter => (open.push(a), a)

let pgUrl = ''
let pgOtherUrl = ''
let mysqlUrl = ''
let redisUrl = ''

beforeAll(async () => {
  const urls = sharedServerUrls()
  pgUrl = await createDatabase(urls.pgUrl, 'claim')
  pgOtherUrl = await createDatabase(urls.pgUrl, 'claim_other')
  mysqlUrl = await createDatabase(urls.mysqlUrl, 'claim')
  redisUrl = urls.redisUrl
})

afterEach(async () => {
  await Promise.all(held.splice(0).map((c) => c.release()))
  await Promise.all(open.splice(0).map((a) => a.close()))
})

const kinds: Kind[] = [
  {
    label: 'PostgreSQL',
    adapter: () => track(new PostgresAdapter({ name: 'pg', kind: 'postgres', url: pgUrl })),
    elsewhere: () => track(new PostgresAdapter({ name: 'pg', kind: 'postgres', url: pgOtherUrl })),
    holder: /PostgreSQL session pid \d+, application "another-tm", from /,
    async killClaimSession(nodeId) {
      const c = await pgClient(pgUrl)
      try {
        const r = await c.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE $1', [`arbiter ${nodeId} % pid %`])
        expect(r.rowCount).toBe(1)
      } finally {
        await c.end()
      }
    },
    async holdAsAnotherTm(nodeId) {
      const c = new pg.Client({ connectionString: pgUrl, application_name: 'another-tm' })
      c.on('error', () => undefined)
      await c.connect()
      await c.query('SELECT pg_advisory_lock($1, $2)', [ARBITER_FORMAT_ID, nodeIdLockKey(nodeId)])
      return () => c.end()
    },
  },
  {
    label: 'MariaDB',
    adapter: () => track(new MysqlAdapter({ name: 'maria', kind: 'mysql', url: mysqlUrl })),
    holder: /MySQL connection id \d+, user \w+ from /,
    async holdAsAnotherTm(nodeId) {
      const c = await mysqlConn(mysqlUrl)
      await c.query('SELECT GET_LOCK(?, 0)', [`arbiter-node:${nodeId}`])
      return () => c.end()
    },
    async killClaimSession(nodeId) {
      const c = await mysqlConn(mysqlUrl)
      try {
        const [rows] = await c.query('SELECT IS_USED_LOCK(?) AS id', [`arbiter-node:${nodeId}`])
        const id = (rows as { id: number | null }[])[0]?.id
        expect(id).toEqual(expect.any(Number))
        await c.query(`KILL ${Number(id)}`)
      } finally {
        await c.end()
      }
    },
  },
  {
    label: 'Redis',
    adapter: () => track(new RedisAdapter({ name: 'redis', kind: 'redis', url: redisUrl }, { keyPrefix: `claimtest${RUN}:` })),
    elsewhere: () => track(new RedisAdapter({ name: 'redis', kind: 'redis', url: redisUrl }, { keyPrefix: `claimother${RUN}:` })),
    holder: /Redis client id \d+ from 127\.0\.0\.1:\d+, connected \d+ s/,
    async holdAsAnotherTm(nodeId) {
      const r = new Redis(redisUrl, { connectionName: `arbiter-node:${nodeId}:0therTm0` })
      await r.set(`claimtest${RUN}:node:${nodeId}`, String(await r.call('CLIENT', 'ID')))
      return async () => r.disconnect()
    },
    async killClaimSession(nodeId) {
      const r = new Redis(redisUrl)
      try {
        const id = await r.get(`claimtest${RUN}:node:${nodeId}`)
        expect(await r.call('CLIENT', 'KILL', 'ID', String(id))).toBe(1)
      } finally {
        r.disconnect()
      }
    },
  },
]

describe.each(kinds.map((k) => [k.label, k] as const))('%s', (_label, kind) => {
  it('held by another TM: refused, told who holds it, within a short wait; once it lets go, claimed; other ids are not', async () => {
    const nodeId = freshNodeId()
    const letGo = await kind.holdAsAnotherTm(nodeId)
    const t0 = Date.now()
    const refused = await kind.adapter().claimNodeId(nodeId).then(
      (c) => (held.push(c), undefined),
      (e: unknown) => e,
    )
    expect(isNodeIdInUse(refused)).toBe(true)
    const message = (refused as Error).message
    expect(message).toContain(`node id "${nodeId}" is in use at resource`)
    expect(message).toMatch(kind.holder)
    expect(message).toContain('give each TM its own nodeId (or ARBITER_NODE_ID)')
    // It waited a little for a holder that might be ending (a restart), not forever.
    expect(Date.now() - t0).toBeLessThan(5_000)
    held.push(await kind.adapter().claimNodeId(freshNodeId()))
    await letGo()
    held.push(await eventually(() => kind.adapter().claimNodeId(nodeId)))
  })

  it('two resources of one TM on the same server share the claim: both hold it, another TM does not get it, and the second follows the first', async () => {
    const nodeId = freshNodeId()
    const first = await kind.adapter().claimNodeId(nodeId)
    const second = await kind.adapter().claimNodeId(nodeId)
    held.push(first, second)
    await expectHeldAgainstAnotherTm(kind, nodeId)
    await first.release()
    // At once, not at its next check: another TM could take the id as soon as the first let go.
    const reason = await Promise.race([second.lost, new Promise<string>((resolve) => setTimeout(() => resolve('not lost'), 1_000))])
    expect(reason).toMatch(/the claim it shared with another resource of this TM on the same server was lost: released/)
  })

  it('released: the next claimant gets it at once', async () => {
    const nodeId = freshNodeId()
    const first = await kind.adapter().claimNodeId(nodeId)
    await first.release()
    expect(await first.lost).toBe('released')
    held.push(await kind.adapter().claimNodeId(nodeId))
    await expectHeldAgainstAnotherTm(kind, nodeId)
  })

  it('its session ended by the server: the claim says it is lost, and the id is free again', async () => {
    const nodeId = freshNodeId()
    const claim = await kind.adapter().claimNodeId(nodeId)
    held.push(claim)
    await kind.killClaimSession(nodeId)
    const reason = await Promise.race([claim.lost, new Promise<string>((resolve) => setTimeout(() => resolve('not lost within 10 s'), 10_000))])
    expect(reason).toMatch(/session|connection/)
    held.push(await kind.adapter().claimNodeId(nodeId))
  })
})

/** Whether another TM could take the id now (PostgreSQL, MariaDB: their try-lock; then let go again). */
async function isFree(kind: Kind, nodeId: string): Promise<boolean> {
  if (kind.label === 'PostgreSQL') {
    const c = await pgClient(pgUrl)
    try {
      const got = (await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1, $2) AS got', [ARBITER_FORMAT_ID, nodeIdLockKey(nodeId)])).rows[0]?.got
      return got === true
    } finally {
      await c.end()
    }
  }
  const c = await mysqlConn(mysqlUrl)
  try {
    const [rows] = await c.query('SELECT GET_LOCK(?, 0) AS got', [`arbiter-node:${nodeId}`])
    return Number((rows as { got: number }[])[0]?.got) === 1
  } finally {
    await c.end()
  }
}

/** This process holds the id: another TM's attempt is refused (PostgreSQL, MariaDB) or told it is held (Redis). */
async function expectHeldAgainstAnotherTm(kind: Kind, nodeId: string): Promise<void> {
  if (kind.label !== 'Redis') expect(await isFree(kind, nodeId)).toBe(false)
  else {
    const r = new Redis(redisUrl)
    try {
      const holder = String(await r.get(`claimtest${RUN}:node:${nodeId}`))
      expect(String(await r.call('CLIENT', 'LIST', 'ID', holder))).toContain(`name=arbiter-node:${nodeId}:`)
    } finally {
      r.disconnect()
    }
  }
}

// MariaDB's XA RECOVER and GET_LOCK are both server-wide: there the scope is the server, and nothing to show.
describe.each(kinds.filter((k) => k.elsewhere !== undefined).map((k) => [k.label, k] as const))('%s', (_label, kind) => {
  it('scoped like recovery: the same id in another database or prefix is another claim', async () => {
    const nodeId = freshNodeId()
    held.push(await kind.adapter().claimNodeId(nodeId))
    held.push(await kind.elsewhere!().claimNodeId(nodeId))
  })
})

describe('Redis', () => {
  it('a claim key naming a connection that is gone (a node that crashed) is taken over at once', async () => {
    const nodeId = freshNodeId()
    const r = new Redis(redisUrl)
    try {
      await r.set(`claimtest${RUN}:node:${nodeId}`, '987654321')
      const t0 = Date.now()
      held.push(await kinds[2]!.adapter().claimNodeId(nodeId))
      expect(Date.now() - t0).toBeLessThan(1_000)
      expect(await r.get(`claimtest${RUN}:node:${nodeId}`)).not.toBe('987654321')
    } finally {
      r.disconnect()
    }
  })

  it("a claim's key has a lease its holder renews: a holder whose host vanished frees it within 20 s", async () => {
    const nodeId = freshNodeId()
    held.push(await kinds[2]!.adapter().claimNodeId(nodeId))
    const r = new Redis(redisUrl)
    try {
      const ttl = await r.pttl(`claimtest${RUN}:node:${nodeId}`)
      expect(ttl).toBeGreaterThan(15_000)
      expect(ttl).toBeLessThanOrEqual(20_000)
    } finally {
      r.disconnect()
    }
  })

  it('a connection that merely carries some other name does not hold it', async () => {
    const nodeId = freshNodeId()
    const impostor = new Redis(redisUrl, { connectionName: 'someone-else' })
    try {
      const id = String(await impostor.call('CLIENT', 'ID'))
      await impostor.set(`claimtest${RUN}:node:${nodeId}`, id)
      held.push(await kinds[2]!.adapter().claimNodeId(nodeId))
    } finally {
      impostor.disconnect()
    }
  })
})
