// Issue #22: one contract, both stores. Whatever the store (the file log in a
// folder, the shared PostgreSQL store behind a lease), a decision is there
// once appendDecision resolves and after a reopen; END takes it out of the
// unfinished set; operators' resolutions survive a reopen; concurrent
// decisions share writes (group commit) and every write is counted; a write
// that cannot be made is refused, never reported durable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fileStore, postgresStore, branches, type Store } from './log-stores.js'

describe.each([
  ['file', async () => fileStore()],
  ['postgres', postgresStore],
] as const)('decision log contract: %s store', (_name, make) => {
  let store: Store
  beforeAll(async () => {
    store = await make()
  })
  afterAll(async () => {
    await store?.cleanup()
  })

  it('a decision is there once appended, and after a reopen; END takes it out of the unfinished set', async () => {
    const log = await store.open()
    await log.appendDecision('g-durable', branches)
    expect(log.get('g-durable')?.decision?.branches).toEqual(branches)
    await log.close()
    const reopened = await store.open()
    expect(reopened.unfinished().map((t) => t.gtrid)).toContain('g-durable')
    expect(reopened.get('g-durable')?.decision?.branches).toEqual(branches)
    await reopened.appendEnd('g-durable')
    expect(reopened.unfinished().map((t) => t.gtrid)).not.toContain('g-durable')
    await reopened.close()
    const again = await store.open()
    expect(again.unfinished().map((t) => t.gtrid)).not.toContain('g-durable')
    expect(again.get('g-durable')?.ended).toBe(true) // still answered COMMITTED after a restart
    await again.close()
  })

  it("a traced decision keeps its trace context across a reopen (recovery links to it); an untraced one has none", async () => {
    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const log = await store.open()
    await Promise.all([log.appendDecision('g-traced', branches, traceparent), log.appendDecision('g-untraced', branches)])
    await log.close()
    const reopened = await store.open()
    expect(reopened.get('g-traced')?.decision?.trace).toBe(traceparent)
    expect(reopened.get('g-untraced')?.decision).toBeDefined()
    expect(reopened.get('g-untraced')?.decision).not.toHaveProperty('trace')
    await reopened.close()
  })

  it("an operator's resolution survives a reopen; an unknown transaction is not there (presumed abort)", async () => {
    const log = await store.open()
    await log.appendResolution({ gtrid: 'g-resolved', resource: 'pg', bqual: '00aa', action: 'rollback', operator: 'ops', reason: 'stuck', heuristic: false })
    await log.close()
    const reopened = await store.open()
    expect(reopened.get('g-resolved')?.resolutions.map((r) => [r.action, r.operator, r.reason])).toEqual([['rollback', 'ops', 'stuck']])
    expect(reopened.get('g-never')).toBeUndefined()
    await reopened.close()
  })

  it('END in the same write as the record it ends (not awaited in between) still ends it, after a reopen too', async () => {
    let log = await store.open()
    const resolution = { resource: 'pg', bqual: 'b1', action: 'rollback' as const, operator: 'test', reason: 'same batch', heuristic: false }
    // The first write carries the decision ahead; the resolution and its END queue behind it and go together in the next.
    await Promise.all([
      log.appendDecision('contract-1:ahead', branches),
      log.appendResolution({ gtrid: 'contract-1:same-batch', ...resolution }),
      log.appendEnd('contract-1:same-batch'),
    ])
    expect(log.unfinished().map((t) => t.gtrid)).not.toContain('contract-1:same-batch')
    await log.close()
    log = await store.open()
    expect(log.unfinished().map((t) => t.gtrid)).not.toContain('contract-1:same-batch')
    await log.close()
  })

  it('concurrent decisions share writes, and every write is counted', async () => {
    const log = await store.open()
    const before = log.stats()
    await Promise.all(Array.from({ length: 50 }, (_, i) => log.appendDecision(`g-batch-${i}`, branches)))
    const after = log.stats()
    const writes = after.fsyncs - before.fsyncs
    expect(after.records - before.records).toBe(50)
    expect(writes).toBeGreaterThanOrEqual(1)
    expect(writes).toBeLessThan(50)
    await log.close()
  })

  it('END alone waits for the next decision and shares its write; with none coming it goes alone after its wait; one marked now, and close(), do not wait', async () => {
    const endWaitMs = 400 // longer than the default, so that a loaded machine cannot blur the steps
    const log = await store.open({ endWaitMs })
    await log.appendDecision('contract-1:end-a', branches)
    const start = log.stats().batches
    const endA = log.appendEnd('contract-1:end-a')
    await new Promise((resolve) => setTimeout(resolve, endWaitMs / 4))
    expect(log.stats().batches, 'END alone is not written at once').toBe(start)
    await log.appendDecision('contract-1:end-b', branches)
    await endA
    expect(log.stats().batches - start, 'the END rode with the decision: one write for both').toBe(1)
    expect(log.unfinished().map((t) => t.gtrid)).not.toContain('contract-1:end-a')

    const alone = performance.now()
    await log.appendEnd('contract-1:end-b')
    expect(performance.now() - alone).toBeGreaterThanOrEqual(endWaitMs - 20)
    expect(log.stats().batches - start).toBe(2)

    // An END a caller waits for (recovery's, for resolved transactions) goes at once.
    await log.appendDecision('contract-1:end-now', branches)
    const urgent = performance.now()
    await log.appendEnd('contract-1:end-now', { now: true })
    expect(performance.now() - urgent, 'appendEnd(…, { now: true }) does not wait').toBeLessThan(endWaitMs - 50)
    expect(log.get('contract-1:end-now')?.ended).toBe(true)

    await log.appendDecision('contract-1:end-c', branches)
    const endC = log.appendEnd('contract-1:end-c')
    const closing = performance.now()
    await log.close()
    await endC
    expect(performance.now() - closing, 'close() does not wait out the END wait').toBeLessThan(endWaitMs)
    const reopened = await store.open()
    expect(reopened.unfinished().map((t) => t.gtrid)).not.toContain('contract-1:end-a')
    expect(reopened.unfinished().map((t) => t.gtrid)).not.toContain('contract-1:end-c')
    expect(reopened.get('contract-1:end-c')?.ended).toBe(true)
    await reopened.close()
  })
})
