// Hostile input: thousands of random and malformed requests to every RPC of
// TransactionManager and Admin (wrong types, huge strings, lone surrogates,
// negative numbers, unknown enum values, random gtrids and XIDs, failing SQL,
// unknown resources) plus raw bytes that are not valid protobuf. Every call
// must get a gRPC status before its deadline; afterwards the server answers
// health checks, commits a real transaction, and after a recovery pass no
// database holds a prepared branch of this TM.
//
// Seeded: FUZZ_SEED=<n> replays a run; FUZZ_COUNT=<n> changes the number of calls.
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadArbiterProto } from '../../../proto/load.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'

const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31)
const COUNT = Number(process.env.FUZZ_COUNT ?? 3000)
const TIME_BUDGET_MS = 60_000
const IN_FLIGHT = Number(process.env.FUZZ_IN_FLIGHT ?? 16)
const CALL_DEADLINE_MS = 15_000

/** mulberry32: small, fast, seedable. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let nodeId: string

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'fuzz')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      { name: 'redis', kind: 'redis', url: sharedServerUrls().redisUrl },
    ],
    {
      transactions: { defaultTimeoutMs: 5000, maxTimeoutMs: 20_000, localBranchGraceMs: 300, retentionMs: 60_000 },
      recovery: { intervalMs: 500, graceMs: 500 },
      limits: { maxMessageBytes: 256 * 1024 },
    },
  )
  nodeId = arbiter.coordinator.begin().gtrid.split(':')[0]!
})

afterAll(async () => {
  await arbiter?.stopAndClean()
  await dbs?.close()
})

describe('fuzz', () => {
  it('a 200 KB malformed gtrid gets INVALID_ARGUMENT with a bounded message, and the connection keeps working (regression)', async () => {
    // Error messages echo the gtrid; unbounded, the grpc-message trailer broke the client's HTTP/2 session.
    const tm = tmClient(arbiter.address)
    try {
      for (let i = 0; i < 3; i++) {
        const error = await tm.tm.GetTransaction({ gtrid: 'g'.repeat(200_000) }).then(
          () => undefined,
          (e: grpc.ServiceError) => e,
        )
        expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT)
        expect(error!.details.length).toBeLessThan(1200)
        expect(error!.details).toMatch(/more characters cut\)$/)
      }
      expect((await tm.tm.Begin({})).gtrid).toContain(':')
    } finally {
      tm.close()
    }
  })

  it('bytes that are not a valid request get INVALID_ARGUMENT naming the method, unary and on both session streams', async () => {
    const client = new grpc.Client(arbiter.address, grpc.credentials.createInsecure())
    const cutShort = Buffer.from([0x12, 0x02, 0x0a]) // field 2, a message, cut short
    try {
      const unaryError = await new Promise<grpc.ServiceError | null>((resolve) =>
        client.makeUnaryRequest('/arbiter.v1.TransactionManager/Commit', (b: Buffer) => b, (b: Buffer) => b, cutShort, (e) => resolve(e)),
      )
      expect(unaryError?.code).toBe(grpc.status.INVALID_ARGUMENT)
      expect(unaryError?.details).toMatch(/request to \/arbiter\.v1\.TransactionManager\/Commit is not a valid protobuf message/)
      for (const method of ['Session', 'BatchedSession']) {
        const stream = client.makeBidiStreamRequest(`/arbiter.v1.TransactionManager/${method}`, (b: Buffer) => b, (b: Buffer) => b)
        const streamError = await new Promise<grpc.ServiceError>((resolve) => {
          stream.on('error', resolve)
          stream.on('data', () => undefined)
          stream.write(cutShort)
        })
        expect(streamError.code).toBe(grpc.status.INVALID_ARGUMENT)
        expect(streamError.details).toMatch(new RegExp(`/${method} is not a valid protobuf message`))
      }
    } finally {
      client.close()
    }
    expect((await tmClient(arbiter.address).tm.Begin({})).gtrid).toContain(':')
  })

  it('a string field cut short or not UTF-8 is INVALID_ARGUMENT, and nothing runs', async () => {
    // Found by hostile testing: protobufjs cut a string whose length ran past the message to what was there (a Run
    // of "DELETE FROM accounts WHERE id = 9001" cut short ran "DELETE FROM accounts"), and read invalid UTF-8 as U+FFFD.
    await dbs.pgQuery('INSERT INTO accounts VALUES (9001, 1), (9002, 1)')
    const run = loadArbiterProto().proto.arbiter.v1.TransactionManager.service.Run
    const good = run.requestSerialize({ statements: [{ resource: 'pg', sql: 'DELETE FROM accounts WHERE id = 9001' }] })
    // A Statement whose sql says 36 bytes but carries the first 20, the outer length matching what is there.
    const sql = Buffer.from('DELETE FROM accounts')
    const statement = Buffer.concat([Buffer.from([0x0a, 2]), Buffer.from('pg'), Buffer.from([0x12, 36]), sql])
    const cut = Buffer.concat([Buffer.from([0x1a, statement.length]), statement])
    const notUtf8 = Buffer.from(good)
    notUtf8[notUtf8.indexOf('9001')] = 0xff
    const client = new grpc.Client(arbiter.address, grpc.credentials.createInsecure())
    try {
      for (const [what, bytes, why] of [['cut short', cut, /index out of range/], ['not UTF-8', notUtf8, /not valid UTF-8/]] as const) {
        const error = await new Promise<grpc.ServiceError | null>((resolve) =>
          client.makeUnaryRequest('/arbiter.v1.TransactionManager/Run', (b: Buffer) => b, (b: Buffer) => b, bytes, (e) => resolve(e)),
        )
        expect({ what, code: error?.code }).toEqual({ what, code: grpc.status.INVALID_ARGUMENT })
        expect(error?.details).toMatch(why)
      }
    } finally {
      client.close()
    }
    expect((await dbs.pgQuery('SELECT id FROM accounts WHERE id IN (9001, 9002) ORDER BY id')).length).toBe(2)
  })

  it(`every random or malformed call gets a status; the server stays up; nothing stays prepared`, async () => {
    const random = prng(SEED)
    const int = (n: number): number => Math.floor(random() * n)
    const pick = <T>(items: readonly T[]): T => items[int(items.length)]!
    const chance = (p: number): boolean => random() < p
    const liveGtrids: string[] = []
    const enlistedBquals: Buffer[] = []

    const randomString = (): unknown =>
      pick<() => unknown>([
        () => '',
        () => 'x'.repeat(int(50)),
        () => String.fromCharCode(...Array.from({ length: int(40) }, () => int(0x10000))), // lone surrogates, NULs, anything
        () => '\ud800\udfff\udc00' + '\u0000',
        () => 'é'.repeat(int(20_000)),
        () => 'y'.repeat(200_000 + int(200_000)), // near or over maxMessageBytes
        () => int(1000) - 500, // a number where a string belongs
        () => ({ nested: true }),
        () => [1, 2, 3],
        () => null,
        () => pick(liveGtrids.length > 0 ? liveGtrids : ['']),
        () => `${nodeId}:${'0123456789ABCDEFGHJKMNPQRSTV'.slice(int(10))}`,
        () => `${pick([nodeId, 'other', ''])}:01ARZ3NDEKTSV4RRFFQ69G5FAV`,
        () => 'a:'.repeat(int(40)),
      ])()
    const randomGtrid = (): unknown => (chance(0.5) && liveGtrids.length > 0 ? pick(liveGtrids) : randomString())
    const randomNumber = (): unknown => pick([0, 1, -1, 2 ** 31, -(2 ** 31), 2 ** 53, Number.NaN, 1e308, '12', 'abc', int(30_000)])
    const randomBytes = (): unknown =>
      pick<() => unknown>([
        () => Buffer.from(Array.from({ length: int(80) }, () => int(256))),
        () => Buffer.from([0xff, 0xfe, 0xc3, 0x28]), // invalid UTF-8
        () => pick(enlistedBquals.length > 0 ? enlistedBquals : [Buffer.alloc(0)]),
        () => Buffer.from('b1'),
        () => randomString(),
      ])()
    const randomEnum = (values: readonly string[]): unknown => pick([...values, 'NOPE', 99, -1, '', 3])
    const randomXid = (): unknown => (chance(0.1) ? randomString() : { formatId: randomNumber(), gtrid: randomBytes(), bqual: randomBytes() })
    const randomResource = (): unknown => pick(['pg', 'maria', 'redis', 'pg', 'maria', 'nope', '', 'PG', randomString()])
    const randomParam = (): unknown =>
      pick<() => unknown>([
        () => ({ intValue: String(int(1000)) }),
        () => ({ intValue: 'not-a-number' }),
        () => ({ stringValue: randomString() }),
        () => ({ decimalValue: pick(['1.5', '1,5', 'NaN', '']) }),
        () => ({ timestampValue: pick(['2020-01-01T00:00:00Z', 'yesterday']) }),
        () => ({ jsonValue: pick(['{}', '{', '[1]']) }),
        () => ({ bytesValue: randomBytes() }),
        () => ({ boolValue: randomNumber() }),
        () => ({}),
        () => randomString(),
      ])()
    const randomSql = (resource: unknown): unknown =>
      pick<() => unknown>([
        () => (resource === 'maria' ? 'INSERT INTO accounts VALUES (?, ?)' : 'INSERT INTO accounts VALUES ($1, $2)'),
        () => 'SELECT 1',
        () => 'SELECT * FROM no_such_table',
        () => (resource === 'maria' ? 'INSERT INTO accounts VALUES (1, -5)' : 'INSERT INTO accounts VALUES (1, -5)'),
        () => 'UPDATE accounts SET balance = balance + 1',
        () => pick(['COMMIT', 'ROLLBACK', "PREPARE TRANSACTION 'x'", 'XA END 1', 'BEGIN', 'SELECT 1; SELECT 2']),
        () => pick(['SET k v', 'GET k', 'INCR n', 'DEL k', 'FLUSHALL', 'NOSUCHCMD']),
        () => 'SELECT pg_sleep(0.2)',
        () => randomString(),
      ])()
    const randomStatement = (): unknown => {
      const resource = randomResource()
      return chance(0.05) ? randomString() : { resource, sql: randomSql(resource), params: chance(0.7) ? [randomParam(), randomParam()] : randomString() }
    }

    // Begin riding on another request: a random run of the TM, a random or real-looking gtrid beside it.
    const randomBegin = (): unknown => (chance(0.5) ? { timeoutMs: randomNumber(), labels: chance(0.3) ? { k: randomString() } : {}, tmInstance: randomString() } : undefined)
    const requests: Record<string, () => unknown> = {
      'arbiter.v1.TransactionManager/Begin': () => ({ timeoutMs: randomNumber(), labels: chance(0.5) ? { [String(randomString())]: randomString() } : randomString() }),
      'arbiter.v1.TransactionManager/Execute': () => ({ gtrid: randomGtrid(), statement: randomStatement(), begin: randomBegin() }),
      'arbiter.v1.TransactionManager/ExecuteBatch': () => ({ gtrid: randomGtrid(), statements: Array.from({ length: int(4) }, randomStatement), begin: randomBegin() }),
      'arbiter.v1.TransactionManager/Enlist': () => ({ gtrid: randomGtrid(), resource: randomResource() }),
      'arbiter.v1.TransactionManager/Commit': () => ({
        gtrid: randomGtrid(),
        localVotes: chance(0.3) ? [{ bqual: randomBytes(), readOnly: randomNumber() }] : [],
        waitFor: randomEnum(['WAIT_FOR_APPLIED', 'WAIT_FOR_DURABLE']),
        begin: randomBegin(),
      }),
      'arbiter.v1.TransactionManager/CompleteLocalBranches': () => ({
        gtrid: randomGtrid(),
        committedBquals: [randomBytes()],
        batch: chance(0.3) ? [{ gtrid: randomGtrid(), committedBquals: [randomBytes()] }] : [],
      }),
      'arbiter.v1.TransactionManager/Rollback': () => ({ gtrid: randomGtrid(), reason: randomString() }),
      'arbiter.v1.TransactionManager/GetTransaction': () => ({ gtrid: randomGtrid() }),
      'arbiter.v1.TransactionManager/Run': () => ({
        statements: Array.from({ length: int(4) }, randomStatement),
        timeoutMs: randomNumber(),
        waitFor: randomEnum(['WAIT_FOR_APPLIED', 'WAIT_FOR_DURABLE']),
      }),
      'arbiter.v1.Admin/ListTransactions': () => ({
        states: [randomEnum(['TRANSACTION_STATE_ACTIVE', 'TRANSACTION_STATE_COMMITTING'])],
        olderThanMs: randomNumber(),
        resource: randomResource(),
        label: randomString(),
        pageSize: randomNumber(),
        pageToken: randomString(),
      }),
      'arbiter.v1.Admin/GetTransaction': () => ({ gtrid: randomGtrid() }),
      'arbiter.v1.Admin/ListInDoubt': () => ({ resource: chance(0.5) ? '' : randomResource() }),
      'arbiter.v1.Admin/RunRecovery': () => ({ resource: chance(0.5) ? '' : randomResource() }),
      'arbiter.v1.Admin/ResolveBranch': () => ({
        gtrid: chance(0.5) ? randomGtrid() : '',
        resource: randomResource(),
        xid: randomXid(),
        resolution: randomEnum(['RESOLUTION_COMMIT', 'RESOLUTION_ROLLBACK']),
        reason: randomString(),
        force: chance(0.2),
      }),
      'arbiter.v1.Admin/ListResources': () => ({}),
    }
    const { definition } = loadArbiterProto()
    const serializers: Record<string, (value: unknown) => Buffer> = {}
    for (const path of Object.keys(requests)) {
      const [service, method] = path.split('/') as [string, string]
      const methodDefinition = (definition[service] as Record<string, { requestSerialize: (value: unknown) => Buffer }>)[method]!
      serializers[path] = methodDefinition.requestSerialize
    }
    const paths = Object.keys(requests).filter((p) => new RegExp(process.env.FUZZ_ONLY ?? '.').test(p))
    const rawBytes = (): Buffer =>
      pick<() => Buffer>([
        () => Buffer.from(Array.from({ length: int(200) }, () => int(256))),
        () => Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // a length far past the end
        () => Buffer.from([0x0a, 0x04, 0xff, 0xfe, 0xc3, 0x28]), // field 1 (a string) with invalid UTF-8
        () => Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]), // an over-long varint
        () => Buffer.from([0x0f]), // wire type 7
        () => Buffer.from([0x12, 0x02, 0x0a]), // a nested message cut short
      ])()

    const client = new grpc.Client(arbiter.address, grpc.credentials.createInsecure())
    const codes = new Map<string, number>()
    let done = 0
    let raw = 0
    let serializeFailures = 0
    let undecodable = 0
    const started = Date.now()
    const call = (path: string, request: Buffer): Promise<{ code: number; gtrid?: string; bqual?: Buffer }> =>
      new Promise((resolve) => {
        const responseDecoder = (definition[path.split('/')[0]!] as Record<string, { responseDeserialize: (b: Buffer) => unknown }>)[path.split('/')[1]!]!
          .responseDeserialize
        client.makeUnaryRequest(
          `/${path}`,
          (b: Buffer) => b,
          (b: Buffer) => {
            // A response the client cannot decode must not take the channel down with it: count it.
            try {
              return responseDecoder(b)
            } catch {
              undecodable++
              return undefined
            }
          },
          request,
          new grpc.Metadata(),
          { deadline: Date.now() + CALL_DEADLINE_MS },
          (error, response) => {
            if (error) {
              if (error.code === grpc.status.UNAVAILABLE && process.env.FUZZ_DEBUG) console.log(path, error.details)
              resolve({ code: error.code })
              return
            }
            const r = response as { gtrid?: string; xid?: { bqual?: Buffer } } | undefined
            resolve({ code: grpc.status.OK, ...(r?.gtrid !== undefined && { gtrid: r.gtrid }), ...(r?.xid?.bqual && { bqual: r.xid.bqual }) })
          },
        )
      })

    const worker = async (): Promise<void> => {
      while (done < COUNT && Date.now() - started < TIME_BUDGET_MS) {
        done++
        const path = chance(0.25) ? 'arbiter.v1.TransactionManager/Begin' : pick(paths)
        let bytes: Buffer
        if (chance(0.1)) {
          raw++
          bytes = rawBytes()
        } else {
          try {
            bytes = serializers[path]!(requests[path]!())
          } catch {
            // The request cannot even be encoded (a wrong type the encoder refuses): send what is left, or nothing.
            serializeFailures++
            bytes = chance(0.5) ? Buffer.alloc(0) : rawBytes()
          }
        }
        const result = await call(path, bytes)
        if (process.env.FUZZ_DEBUG && result.code === 4) console.log("HUNG", path, bytes.length, bytes.subarray(0, 120).toString("hex"))
        const name = grpc.status[result.code] ?? String(result.code)
        codes.set(name, (codes.get(name) ?? 0) + 1)
        if (result.gtrid) {
          liveGtrids.push(result.gtrid)
          if (liveGtrids.length > 50) liveGtrids.shift()
        }
        if (result.bqual) enlistedBquals.push(result.bqual)
      }
    }
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
    client.close()
    const summary = [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k}=${v}`).join(' ')
    console.log(`fuzz: seed=${SEED} calls=${done} raw=${raw} unencodable=${serializeFailures} undecodable-responses=${undecodable} in ${Date.now() - started} ms: ${summary}`)
    expect(done).toBeGreaterThanOrEqual(Math.min(COUNT, 1000))
    expect(codes.get('DEADLINE_EXCEEDED') ?? 0).toBe(0) // no call hung
    expect(codes.get('UNKNOWN') ?? 0).toBe(0)
    expect(codes.get('INTERNAL') ?? 0).toBe(0) // a server bug: bad input is INVALID_ARGUMENT or another catalog code

    // The server is up: health, and a real two-phase transaction.
    const health = await new Promise<string>((resolve, reject) => {
      const c = new grpc.Client(arbiter.address, grpc.credentials.createInsecure())
      c.makeUnaryRequest(
        '/grpc.health.v1.Health/Check',
        () => Buffer.alloc(0),
        (b: Buffer) => b,
        {},
        new grpc.Metadata(),
        { deadline: Date.now() + 5000 },
        (error, response) => {
          c.close()
          if (error) reject(error)
          else resolve(response!.toString('hex')) // field 1 = 1 (SERVING): 0801
        },
      )
    })
    expect(health).toBe('0801')
    // Fuzz transactions still open may hold row and gap locks on accounts (an
    // UPDATE of every row, say) until their deadline: end them first.
    for (const tx of arbiter.coordinator.list()) if (tx.state === 'ACTIVE') await arbiter.coordinator.rollback(tx.gtrid, 'fuzz done')
    const tm = tmClient(arbiter.address)
    const { gtrid } = await tm.tm.Begin({})
    await tm.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [{ intValue: '900001' }] } })
    await tm.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [{ intValue: '900001' }] } })
    const { transaction } = await tm.tm.Commit({ gtrid })
    tm.close()
    expect(transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')

    // Nothing of this TM stays prepared once recovery passes.
    let left = await dbs.preparedLeft(nodeId)
    for (let i = 0; i < 40 && (left.pg.length > 0 || left.mysql.length > 0); i++) {
      await new Promise((resolve) => setTimeout(resolve, 500))
      await arbiter.recovery.scan()
      left = await dbs.preparedLeft(nodeId)
    }
    expect(left).toEqual({ pg: [], mysql: [] })
  })
})
