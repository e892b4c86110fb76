// The one-shot Run (issue #20.2): named by the client, so a repeat of the
// same Run answers the first outcome and never runs twice; and an answer too
// big for the caller is refused before the commit (INVALID_ARGUMENT, nothing
// committed, not retryable) instead of failing after it as "overloaded, retry".
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import * as grpc from '@grpc/grpc-js'
import { InvalidArgumentError, createArbiterClient, type ArbiterClient } from '../../../client/index.js'
import type { TestDatabases } from '../../helpers/databases.js'
import type { startTestArbiter } from '../../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { balancesOf, closeClientEnv, openAccount, openClientEnv } from './client-env.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ArbiterClient
let unaryClient: ArbiterClient
let raw: ReturnType<typeof tmClient>
let nextId = 700
let id: number

beforeAll(async () => {
  ;({ dbs, arbiter, client } = await openClientEnv('oneshot'))
  unaryClient = createArbiterClient({ address: arbiter.address, transport: 'unary' })
  raw = tmClient(arbiter.address)
})

afterAll(async () => {
  unaryClient?.close()
  raw?.close()
  await closeClientEnv({ dbs, arbiter, client })
})

beforeEach(async () => {
  id = nextId++
  await openAccount(dbs, id)
})

const transfer = (amount: number) => [
  { resource: 'pg', sql: 'UPDATE accounts SET balance = balance - $1 WHERE id = $2 RETURNING balance', params: [amount, id] },
  { resource: 'maria', sql: 'UPDATE accounts SET balance = balance + ? WHERE id = ?', params: [amount, id] },
]

const wire = (amount: number) =>
  transfer(amount).map((s) => ({ resource: s.resource, sql: s.sql, params: s.params.map((p) => ({ intValue: String(p) })) }))

describe('Run named by its caller', () => {
  it('a repeat of the same Run answers the first outcome and runs nothing twice, concurrent or after', async () => {
    const { gtrid } = await raw.tm.Begin({})
    const request = { gtrid, statements: wire(10) }
    const [a, b] = await Promise.all([raw.tm.Run(request), raw.tm.Run(request)])
    const c = await raw.tm.Run(request)
    for (const answer of [a, b, c]) {
      expect(answer.transaction?.gtrid).toBe(gtrid)
      expect(answer.transaction?.state).toBe('TRANSACTION_STATE_COMMITTED')
      expect(answer.results[0]?.rows[0]?.values[0]).toEqual(a.results[0]?.rows[0]?.values[0])
      expect(answer.resultsDropped).toBe(false)
    }
    expect(await balancesOf(dbs, id)).toEqual({ pg: 90, maria: 10 })
  })

  it('a repeat of a Run that failed gets the same failure, and the statements stay undone', async () => {
    const { gtrid } = await raw.tm.Begin({})
    const failing = { gtrid, statements: [...wire(10), { resource: 'pg', sql: 'SELECT 1/0' }] }
    const first = await grpcError(raw.tm.Run(failing))
    const again = await grpcError(raw.tm.Run(failing))
    expect(first.code).toBe(grpc.status.ABORTED)
    expect(again.code).toBe(first.code)
    expect(again.details).toBe(first.details)
    // Other statements on that name are not its repeat: refused, nothing run (run-repeats.ts).
    const other = await grpcError(raw.tm.Run({ gtrid, statements: wire(10) }))
    expect(other.code).toBe(grpc.status.FAILED_PRECONDITION)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
  })

  it('a Run naming a Begin-named transaction this TM does not know is NOT_FOUND, never a new run', async () => {
    const { gtrid: begun } = await raw.tm.Begin({})
    const gtrid = `${begun.split(':')[0]}:01JD0000000000000000000000`
    const error = await grpcError(raw.tm.Run({ gtrid, statements: wire(10) }))
    expect(error.code).toBe(grpc.status.NOT_FOUND)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
  })

  it('client.run() commits on both transports and says its results were kept', async () => {
    for (const c of [client, unaryClient]) {
      const { transaction, results, resultsDropped } = await c.run(transfer(10))
      expect(transaction.state).toBe('COMMITTED')
      expect(resultsDropped).toBe(false)
      expect(results).toHaveLength(2)
    }
    expect(await balancesOf(dbs, id)).toEqual({ pg: 80, maria: 20 })
  })
})

describe('an answer too big for the caller', () => {
  // About 9 MB of rows: over the client's 4 MiB default and the TM's 8 MiB limits.maxMessageBytes.
  const bigSelect = { resource: 'pg', sql: "SELECT repeat('x', 1000000) AS filler FROM generate_series(1, 9)" }

  it('run(): InvalidArgumentError naming the limit, not retryable, nothing committed (both transports)', async () => {
    for (const c of [client, unaryClient]) {
      const error = await c.run([...transfer(10), bigSelect]).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(InvalidArgumentError)
      expect((error as InvalidArgumentError).retryable).toBe(false)
      expect((error as Error).message).toMatch(/max_receive_message_length|maxMessageBytes/)
    }
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
  })

  it('transaction(): the statement is refused (not retryable) and the transaction rolled back', async () => {
    let attempts = 0
    const error = await client
      .transaction(
        async (tx) => {
          attempts++
          await tx.execute('maria', 'UPDATE accounts SET balance = balance + 10 WHERE id = ?', [id])
          await tx.execute(bigSelect.resource, bigSelect.sql)
        },
        { retry: { attempts: 3, baseDelayMs: 10 } },
      )
      .catch((e: unknown) => e)
    expect(error).toBeInstanceOf(InvalidArgumentError)
    expect((error as InvalidArgumentError).retryable).toBe(false)
    expect(attempts).toBe(1)
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
  })

  it('an answer a few bytes under the limit, which the commit would push over it, is refused before the commit (found by review)', async () => {
    const small = createArbiterClient({ address: arbiter.address, channelOptions: { 'grpc.max_receive_message_length': 100_000 } })
    try {
      for (const n of [99_805, 99_815, 99_825]) {
        const error = await small.run([...transfer(10), { resource: 'pg', sql: `SELECT repeat('x', ${n}) AS filler` }]).catch((e: unknown) => e)
        expect(error).toBeInstanceOf(InvalidArgumentError)
      }
    } finally {
      small.close()
    }
    expect(await balancesOf(dbs, id)).toEqual({ pg: 100, maria: 0 })
  })

  it('a client that receives more gets the answer', async () => {
    const roomy = createArbiterClient({ address: arbiter.address, channelOptions: { 'grpc.max_receive_message_length': 64 * 1024 * 1024 } })
    try {
      // 3 MB: under the TM's 8 MiB, over nothing this client set.
      const { results } = await roomy.run([{ resource: 'pg', sql: "SELECT repeat('x', 1000000) AS filler FROM generate_series(1, 3)" }])
      expect(results[0]?.rows).toHaveLength(3)
    } finally {
      roomy.close()
    }
  })
})
