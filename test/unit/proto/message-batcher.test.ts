// The BatchedSession batcher: its size bound is never below the real
// protobuf size (else a batch could pass the gRPC message limit), messages
// added in one turn leave together, and a batch never grows past its bound.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { MethodDefinition } from '@grpc/proto-loader'
import { loadArbiterProto } from '../../../proto/load.js'
import { batchBound, encodedSizeBound, MessageBatcher } from '../../../proto/message-batcher.js'

const batched = loadArbiterProto().definition['arbiter.v1.TransactionManager'] as Record<string, MethodDefinition<object, object>>
const encodeRequests = (requests: object[]): Buffer => batched.BatchedSession!.requestSerialize({ requests })
const encodeResponses = (responses: object[]): Buffer => batched.BatchedSession!.responseSerialize({ responses })

// Including long runs of the characters that cost UTF-8 the most bytes per UTF-16 unit.
const text = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 100 }),
  fc.string({ unit: 'binary', maxLength: 100 }),
  fc.string({ unit: fc.constantFrom('€', '中', '😀', 'é'), minLength: 100, maxLength: 300 }),
)
const value = fc.oneof(
  text.map((s) => ({ stringValue: s })),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => ({ intValue: String(n) })),
  fc.double({ noNaN: true }).map((d) => ({ doubleValue: d })),
  fc.uint8Array({ maxLength: 200 }).map((b) => ({ bytesValue: Buffer.from(b) })),
  fc.constant({ nullValue: true }),
)
// Maps (labels) encode their keys too, each entry as a message of its own.
const labels = fc.dictionary(text, text, { maxKeys: 5 })
const request = fc.oneof(
  fc.record({
    id: fc.nat({ max: 2 ** 32 - 1 }),
    execute: fc.record({ gtrid: text, statement: fc.record({ resource: text, sql: text, params: fc.array(value, { maxLength: 8 }) }) }),
  }),
  fc.record({ id: fc.nat({ max: 2 ** 32 - 1 }), begin: fc.record({ timeoutMs: fc.nat(), labels }) }),
)
const transactionAnswer = fc.record({
  id: fc.nat({ max: 2 ** 32 - 1 }),
  getTransaction: fc.record({ gtrid: text, state: fc.constant('TRANSACTION_STATE_COMMITTED'), labels, createdAtUnixMs: fc.nat().map(String) }),
})
const executeAnswer = fc.record({
  id: fc.nat({ max: 2 ** 32 - 1 }),
  execute: fc.record({
    result: fc.record({
      columns: fc.array(fc.record({ name: text, type: text }), { maxLength: 4 }),
      rows: fc.array(fc.record({ values: fc.array(value, { maxLength: 4 }) }), { maxLength: 6 }),
      affectedRows: fc.nat().map(String),
    }),
  }),
})
const response = fc.oneof(executeAnswer, transactionAnswer)

describe('encodedSizeBound', () => {
  it('is at least the encoded size of any batch of requests or answers', () => {
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 5 }), (requests) => {
        expect(encodedSizeBound(requests)).toBeGreaterThanOrEqual(encodeRequests(requests).length)
      }),
    )
    fc.assert(
      fc.property(fc.array(response, { minLength: 1, maxLength: 5 }), (responses) => {
        expect(encodedSizeBound(responses)).toBeGreaterThanOrEqual(encodeResponses(responses).length)
      }),
    )
  })
})

describe('batchBound', () => {
  it('is half the smaller of the peer\'s receive limit and our send limit, grpc-js\'s default when the peer says nothing, at most 4 MiB', () => {
    expect(batchBound(undefined)).toBe(2 * 1024 * 1024)
    expect(batchBound(16_384)).toBe(8192)
    expect(batchBound(16_384, 4096)).toBe(2048)
    expect(batchBound(-1, 1000)).toBe(500)
    expect(batchBound(-1, -1)).toBe(4 * 1024 * 1024)
    expect(batchBound(Number.NaN)).toBe(2 * 1024 * 1024)
  })
})

describe('MessageBatcher', () => {
  const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

  it('writes what was added in one turn as one batch, in the check phase', async () => {
    const written: number[][] = []
    const batcher = new MessageBatcher<number>((batch) => written.push(batch), 1024)
    batcher.add(1)
    batcher.add(2)
    await Promise.resolve()
    batcher.add(3) // a microtask later is still the same turn
    expect(written).toEqual([])
    await nextTurn()
    expect(written).toEqual([[1, 2, 3]])
    batcher.add(4)
    await nextTurn()
    expect(written).toEqual([[1, 2, 3], [4]])
  })

  it('never lets a batch grow past its bound; a message above the bound goes alone', async () => {
    const written: string[][] = []
    const bound = encodedSizeBound('x'.repeat(100)) * 2
    const batcher = new MessageBatcher<string>((batch) => written.push(batch), bound)
    const small = 'x'.repeat(100)
    const big = 'y'.repeat(1000)
    for (const m of [small, small, small, big, small]) batcher.add(m)
    await nextTurn()
    expect(written).toEqual([[small, small], [small], [big], [small]])
    for (const batch of written) expect(batch.length === 1 || encodedSizeBound(batch) - 6 <= bound).toBe(true)
  })

  it('flush() writes at once and drop() forgets', async () => {
    const written: number[][] = []
    const batcher = new MessageBatcher<number>((batch) => written.push(batch), 1024)
    batcher.add(1)
    batcher.flush()
    expect(written).toEqual([[1]])
    batcher.add(2)
    batcher.drop()
    await nextTurn()
    expect(written).toEqual([[1]])
  })
})
