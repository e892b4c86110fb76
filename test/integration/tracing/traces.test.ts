// Issue #25: one business request, one trace. The application's span is the
// parent of the client's span for transaction() / run(); every request the
// client sends carries the W3C trace context (on the Session stream and as
// unary metadata), and the TM continues the trace: a server span per
// request, a span per statement naming its resource (never the SQL's
// parameters), phase 1 per branch with its vote, the decision write, and
// phase 2 per branch. An in-memory exporter sees both sides: the TM runs in
// this process and registers the provider the client's API finds.
import { context, SpanStatusCode, trace, type Span } from '@opentelemetry/api'
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../../client/index.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { ArbiterProcess, startTestArbiter, testConfig } from '../../helpers/test-arbiter.js'

const exporter = new InMemorySpanExporter()
let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'traces')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    {},
    { spanProcessor: new SimpleSpanProcessor(exporter) },
  )
})

afterAll(async () => {
  await arbiter?.stopAndClean()
  await dbs?.close()
})

beforeEach(() => exporter.reset())

/** The spans of one trace as an indented tree (parents first, siblings by start time). */
function tree(spans: readonly ReadableSpan[], rootId: string): string {
  const children = (id: string) =>
    spans.filter((s) => s.parentSpanContext?.spanId === id).sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1])
  const lines: string[] = []
  const walk = (span: ReadableSpan, depth: number): void => {
    const attrs = ['arbiter.resource', 'db.system', 'arbiter.vote']
      .filter((k) => span.attributes[k] !== undefined)
      .map((k) => `${k}=${String(span.attributes[k])}`)
    lines.push(`${'  '.repeat(depth)}${span.name}${attrs.length ? ` (${attrs.join(', ')})` : ''}`)
    for (const child of children(span.spanContext().spanId)) walk(child, depth + 1)
  }
  walk(spans.find((s) => s.spanContext().spanId === rootId)!, 0)
  return lines.join('\n')
}

async function inAppSpan<T>(fn: () => Promise<T>): Promise<{ result: T; root: Span }> {
  const root = trace.getTracer('bank-app').startSpan('POST /transfer')
  try {
    return { result: await context.with(trace.setSpan(context.active(), root), fn), root }
  } finally {
    root.end()
  }
}

/** Phase 2 may end after Commit answers (waitFor applied): wait until the last commit_branch span is in. */
async function spansOf(traceId: string, branchCommits: number): Promise<ReadableSpan[]> {
  await expect.poll(() => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId && s.name === 'arbiter.commit_branch').length).toBe(branchCommits)
  return exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId)
}

describe.each(['session', 'unary'] as const)('a two-phase transaction traced end to end (%s transport)', (transport) => {
  it('one trace from the application span through the client to the TM: begin, statements, phase 1 per branch with its vote, the decision write, phase 2 per branch', async () => {
    const client = createArbiterClient({ address: arbiter.address, transport })
    try {
      const id = transport === 'session' ? 1 : 2
      const { root } = await inAppSpan(() =>
        client.transaction(async (tx) => {
          await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, $2)', [id, 100])
          await tx.execute('maria', 'INSERT INTO accounts VALUES (?, ?)', [id, 100])
        }),
      )
      const traceId = root.spanContext().traceId
      const spans = await spansOf(traceId, 2)
      const printed = tree(spans, root.spanContext().spanId)
      console.log(`trace of one transfer (${transport}):\n${printed}`)
      // Every span is in the application's trace, and each has its parent in it (one tree).
      const ids = new Set(spans.map((s) => s.spanContext().spanId))
      for (const s of spans) if (s !== spans.find((x) => x.spanContext().spanId === root.spanContext().spanId)) expect(ids.has(s.parentSpanContext!.spanId)).toBe(true)
      const byName = (name: string) => spans.filter((s) => s.name === name)
      const parentOf = (s: ReadableSpan) => spans.find((p) => p.spanContext().spanId === s.parentSpanContext?.spanId)
      const txSpan = byName('arbiter.transaction')[0]!
      expect(parentOf(txSpan)?.name).toBe('POST /transfer')
      // The outcome as the application saw it: committed (OK), and no span of the trace failed.
      expect(txSpan.status.code).toBe(SpanStatusCode.OK)
      expect(spans.filter((s) => s.status.code === SpanStatusCode.ERROR)).toEqual([])
      expect(txSpan.attributes['arbiter.gtrid']).toMatch(/:/)
      const executes = byName('arbiter.v1.TransactionManager/Execute')
      expect(executes).toHaveLength(2)
      for (const e of executes) expect(parentOf(e)).toBe(txSpan)
      const statements = byName('arbiter.statement')
      expect(statements.map((s) => [s.attributes['arbiter.resource'], s.attributes['db.system']]).sort()).toEqual([
        ['maria', 'mysql'],
        ['pg', 'postgresql'],
      ])
      for (const s of statements) {
        expect(parentOf(s)?.name).toBe('arbiter.v1.TransactionManager/Execute')
        // The resource, never the SQL's parameters.
        expect(JSON.stringify(s.attributes)).not.toContain('100')
      }
      const commit = byName('arbiter.v1.TransactionManager/Commit')[0]!
      expect(parentOf(commit)).toBe(txSpan)
      const prepares = byName('arbiter.prepare')
      expect(prepares.map((p) => [p.attributes['arbiter.resource'], p.attributes['arbiter.vote']]).sort()).toEqual([
        ['maria', 'prepared'],
        ['pg', 'prepared'],
      ])
      for (const p of [...prepares, ...byName('arbiter.decision.write'), ...byName('arbiter.commit_branch')]) expect(parentOf(p)).toBe(commit)
      expect(byName('arbiter.decision.write')).toHaveLength(1)
      // The decision is written after every vote, and phase 2 starts after the decision.
      const end = (s: ReadableSpan) => s.endTime[0] * 1e9 + s.endTime[1]
      const start = (s: ReadableSpan) => s.startTime[0] * 1e9 + s.startTime[1]
      const decision = byName('arbiter.decision.write')[0]!
      // (Within a millisecond: the SDK's end times are rounded to one.)
      for (const p of prepares) expect(end(p)).toBeLessThanOrEqual(start(decision) + 1e6)
      for (const c of byName('arbiter.commit_branch')) expect(start(c)).toBeGreaterThanOrEqual(end(decision) - 1e6)
    } finally {
      client.close()
    }
  })
})

describe('run() and failures', () => {
  it('a one-shot run() is one client span over one Run server span, with the statements under it', async () => {
    const client = createArbiterClient({ address: arbiter.address })
    try {
      const { root } = await inAppSpan(() =>
        client.run([
          { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [3] },
          { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: [3] },
        ]),
      )
      const spans = await spansOf(root.spanContext().traceId, 2)
      const names = spans.map((s) => s.name)
      expect(names).toContain('arbiter.run')
      expect(names).toContain('arbiter.v1.TransactionManager/Run')
      expect(names.filter((n) => n === 'arbiter.statement')).toHaveLength(2)
    } finally {
      client.close()
    }
  })

  it('a refused statement marks the spans that failed with the error code', async () => {
    const client = createArbiterClient({ address: arbiter.address })
    try {
      const root = trace.getTracer('bank-app').startSpan('POST /broken')
      await expect(
        context.with(trace.setSpan(context.active(), root), () =>
          client.transaction(async (tx) => {
            await tx.execute('pg', 'INSERT INTO no_such_table VALUES (1)')
          }),
        ),
      ).rejects.toThrow()
      root.end()
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === root.spanContext().traceId)
      const failed = spans.find((s) => s.name === 'arbiter.statement')!
      expect(failed.status.code).toBe(2) // ERROR
      expect(spans.find((s) => s.name === 'arbiter.transaction')?.status.code).toBe(2)
    } finally {
      client.close()
    }
  })
})

describe('export over OTLP', () => {
  it('a node with tracing.otlpEndpoint sends its spans to the collector (OTLP/HTTP), the last ones at its graceful stop', async () => {
    const received: string[] = []
    const collector = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      req.on('end', () => {
        received.push(`${req.method} ${req.url} ${body}`)
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const port = (collector.address() as AddressInfo).port
    const node = await ArbiterProcess.start(
      testConfig([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
        tracing: { otlpEndpoint: `http://127.0.0.1:${port}/v1/traces`, samplingRatio: 1, serviceName: 'arbiter-test' },
      }),
    )
    try {
      const client = createArbiterClient({ address: node.address })
      await client.run([{ resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [4] }])
      client.close()
      await node.stop() // flushes the batch
      const sent = received.join('\n')
      expect(sent).toContain('POST /v1/traces')
      expect(sent).toContain('arbiter.v1.TransactionManager/Run')
      expect(sent).toContain('arbiter-test')
      expect(node.logs()).toContain('"tracing on"')
    } finally {
      await node.destroy()
      collector.close()
    }
  })

  it('recovery after a crash past the decision is a trace of its own, linked to the trace that decided: the log keeps the trace context', async () => {
    const spans: { name: string; traceId: string; links?: { traceId: string }[] }[] = []
    const collector = createServer((req, res) => {
      let body = ''
      req.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')))
      req.on('end', () => {
        // OTLP/HTTP JSON: resourceSpans → scopeSpans → spans, ids in hex.
        const parsed = JSON.parse(body) as { resourceSpans?: { scopeSpans?: { spans?: typeof spans }[] }[] }
        for (const r of parsed.resourceSpans ?? []) for (const scope of r.scopeSpans ?? []) spans.push(...(scope.spans ?? []))
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}')
      })
    })
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve))
    const port = (collector.address() as AddressInfo).port
    const config = testConfig(
      [
        { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
        { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
      ],
      { tracing: { otlpEndpoint: `http://127.0.0.1:${port}/v1/traces`, samplingRatio: 1, serviceName: 'arbiter-test' } },
    )
    const node = await ArbiterProcess.start(config, { ARBITER_FAILPOINTS: 'after-decision=crash' })
    const client = createArbiterClient({ address: node.address, transport: 'unary' })
    try {
      const root = trace.getTracer('bank-app').startSpan('POST /transfer')
      const outcome = await context
        .with(trace.setSpan(context.active(), root), () =>
          client.transaction(async (tx) => {
            await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [5])
            await tx.execute('maria', 'INSERT INTO accounts VALUES (?, 1)', [5])
          }),
        )
        .catch((error: unknown) => error as Error)
      root.end()
      expect(outcome).toBeInstanceOf(Error) // the TM died at the commit point: the caller cannot know
      expect((await node.exited()).signal).toBe('SIGKILL')
      await node.spawn() // the same data folder, tracing on, no fail point
      await expect.poll(async () => (await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = 5')).length, { timeout: 20_000 }).toBe(1)
      await node.stop() // flushes the batch
      const traceId = root.spanContext().traceId
      const recovery = spans.filter((s) => s.name.startsWith('arbiter.recovery.'))
      expect(recovery.map((s) => s.name)).toContain('arbiter.recovery.finish_decided')
      const finishing = recovery.find((s) => s.name === 'arbiter.recovery.finish_decided')!
      // Its own trace, linked to the application's.
      expect(finishing.traceId).not.toBe(traceId)
      expect(finishing.links?.map((l) => l.traceId)).toContain(traceId)
    } finally {
      client.close()
      await node.destroy()
      collector.close()
    }
  })
})
