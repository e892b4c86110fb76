// The metrics/health HTTP port: /metrics exposes Arbiter's series and they
// move as transactions run; /healthz and /readyz answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { createArbiterClient } from '../../../client/index.js'
import { grpcError, tmClient } from '../../helpers/tm-client.js'
import { httpGet, parseMetrics, sample } from './helpers.js'

let dbs: TestDatabases
let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
let client: ReturnType<typeof tmClient>
const int = (n: number) => ({ intValue: String(n) })

beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'metrics')
  arbiter = await startTestArbiter(
    [
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'maria', kind: 'mysql', url: dbs.mysqlUrl },
    ],
    { metrics: { listen: '127.0.0.1:0', resourceRefreshMs: 200 }, admin: { stuckAfterMs: 200 } },
  )
  client = tmClient(arbiter.address)
})

afterAll(async () => {
  client?.close()
  await arbiter?.stopAndClean()
  await dbs?.close()
})

async function scrape(): Promise<Map<string, number>> {
  const { status, body } = await httpGet(`http://${arbiter.metricsAddress}/metrics`)
  expect(status).toBe(200)
  return parseMetrics(body)
}

const SERIES = [
  'arbiter_transactions_begun_total',
  'arbiter_transactions_finished_total',
  'arbiter_commit_duration_seconds_bucket',
  'arbiter_phase1_duration_seconds_bucket',
  'arbiter_decision_log_append_seconds_bucket',
  'arbiter_phase2_duration_seconds_bucket',
  'arbiter_decision_log_fsyncs_total',
  'arbiter_decision_log_records_total',
  'arbiter_decision_log_batch_size_bucket',
  'arbiter_transactions_active',
  'arbiter_transactions_in_doubt',
  'arbiter_transactions_stuck',
  'arbiter_transactions_heuristic_total',
  'arbiter_resource_up',
  'arbiter_resource_pool_in_use',
  'arbiter_resource_prepared_branches',
  'arbiter_recovery_runs_total',
  'grpc_server_handled_total',
  'grpc_server_handling_seconds_bucket',
  'process_cpu_seconds_total',
  'nodejs_eventloop_lag_seconds',
]

describe('metrics port', () => {
  it('/healthz is 200 and /readyz is 200 once start-up recovery is done; unknown paths 404', async () => {
    expect(arbiter.metricsAddress).toMatch(/^127\.0\.0\.1:\d+$/)
    expect((await httpGet(`http://${arbiter.metricsAddress}/healthz`)).status).toBe(200)
    const ready = await httpGet(`http://${arbiter.metricsAddress}/readyz`)
    expect(ready).toEqual({ status: 200, body: 'ready\n' })
    // The same answer as a series alerts can use; every outcome and path exported from the start, at 0 until it happens.
    const first = await scrape()
    expect(sample(first, 'arbiter_ready', {})).toBe(1)
    expect(first.get('arbiter_transactions_finished_total{outcome="unknown",path="two-phase"}')).toBe(0)
    expect((await httpGet(`http://${arbiter.metricsAddress}/nope`)).status).toBe(404)
  })

  it('a two-phase commit moves begun, finished{committed,two-phase}, fsyncs, records, the histograms and grpc_server_handled_total', async () => {
    const before = await scrape()
    const { gtrid } = await client.tm.Begin({ timeoutMs: 10_000 })
    await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, $2)', params: [int(1), int(10)] } })
    await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, ?)', params: [int(1), int(10)] } })
    const { transaction } = await client.tm.Commit({ gtrid })
    expect(transaction?.commitPath).toBe('two-phase')
    const after = await scrape()

    for (const name of SERIES) expect([...after.keys()].some((k) => k === name || k.startsWith(`${name}{`)), name).toBe(true)
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels)
    expect(delta('arbiter_transactions_begun_total')).toBe(1)
    expect(delta('arbiter_transactions_finished_total', { outcome: 'committed', path: 'two-phase' })).toBe(1)
    expect(sample(after, 'arbiter_decision_log_fsyncs_total')).toBeGreaterThan(0)
    expect(delta('arbiter_decision_log_records_total')).toBeGreaterThanOrEqual(1) // DECISION (END may still be on its way)
    expect(delta('arbiter_commit_duration_seconds_count')).toBe(1)
    expect(delta('arbiter_phase1_duration_seconds_count')).toBe(1)
    expect(delta('arbiter_decision_log_append_seconds_count')).toBe(1)
    expect(delta('arbiter_phase2_duration_seconds_count')).toBe(1)
    expect(delta('arbiter_decision_log_batch_size_count')).toBeGreaterThanOrEqual(1)
    expect(delta('grpc_server_handled_total', { grpc_service: 'arbiter.v1.TransactionManager', grpc_method: 'Commit', grpc_code: 'OK' })).toBe(1)
    expect(delta('grpc_server_handled_total', { grpc_method: 'Execute', grpc_code: 'OK' })).toBe(2)
    expect(sample(after, 'arbiter_transactions_active')).toBe(0)
    expect(sample(after, 'arbiter_recovery_runs_total')).toBeGreaterThanOrEqual(1)
  })

  it('a one-phase commit and a rollback are counted with their path; errors by status code', async () => {
    const before = await scrape()
    const one = await client.tm.Begin({})
    await client.tm.Execute({ gtrid: one.gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, $2)', params: [int(2), int(10)] } })
    await client.tm.Commit({ gtrid: one.gtrid })
    const two = await client.tm.Begin({})
    await client.tm.Rollback({ gtrid: two.gtrid })
    // A statement that fails: the transaction rolls back; the resource error is counted by class.
    const three = await client.tm.Begin({})
    await grpcError(client.tm.Execute({ gtrid: three.gtrid, statement: { resource: 'pg', sql: 'SELECT * FROM no_such_table' } }))
    // A transaction of this node's that it does not know: NOT_FOUND.
    await grpcError(client.tm.GetTransaction({ gtrid: `${one.gtrid.split(':')[0]}:01ARZ3NDEKTSV4RRFFQ69G5FAV` }))
    const after = await scrape()
    const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels)
    expect(delta('arbiter_transactions_finished_total', { outcome: 'committed', path: 'one-phase' })).toBe(1)
    expect(delta('arbiter_transactions_finished_total', { outcome: 'rolled_back', path: 'none' })).toBe(2)
    expect(sample(after, 'arbiter_resource_errors_total', { resource: 'pg' })).toBeGreaterThanOrEqual(1)
    expect(delta('grpc_server_handled_total', { grpc_method: 'GetTransaction', grpc_code: 'NOT_FOUND' })).toBe(1)
    expect(delta('grpc_server_handled_total', { grpc_method: 'Execute', grpc_code: 'ABORTED' })).toBe(1)
  })

  it('requests on a Session stream are counted per method and status code (the stream itself is one long call)', async () => {
    const app = createArbiterClient({ address: arbiter.address })
    try {
      const begun = await client.tm.Begin({})
      await client.tm.Rollback({ gtrid: begun.gtrid })
      const nodeId = begun.gtrid.split(':')[0]
      const before = await scrape()
      await app.transaction(async (tx) => {
        await tx.execute('pg', 'SELECT 1')
        await tx.executeBatch([{ resource: 'pg', sql: 'SELECT 2' }])
      })
      await app.getTransaction(`${nodeId}:01ARZ3NDEKTSV4RRFFQ69G5FAV`).catch(() => undefined)
      const after = await scrape()
      const delta = (name: string, labels: Record<string, string> = {}) => sample(after, name, labels) - sample(before, name, labels)
      expect(delta('arbiter_session_requests_total', { method: 'Execute', code: 'OK' }) + delta('arbiter_session_requests_total', { method: 'Begin', code: 'OK' })).toBe(2)
      expect(delta('arbiter_session_requests_total', { method: 'ExecuteBatch', code: 'OK' })).toBe(1)
      expect(delta('arbiter_session_requests_total', { method: 'Commit', code: 'OK' })).toBe(1)
      expect(delta('arbiter_session_requests_total', { method: 'GetTransaction', code: 'NOT_FOUND' })).toBe(1)
      expect(delta('arbiter_session_request_seconds_count', { method: 'Commit' })).toBe(1)
    } finally {
      app.close()
    }
  })

  it('resource gauges come from adapter.health(), refreshed in the background', async () => {
    await new Promise((resolve) => setTimeout(resolve, 500))
    const now = await scrape()
    expect(sample(now, 'arbiter_resource_up', { resource: 'pg' })).toBe(1)
    expect(sample(now, 'arbiter_resource_up', { resource: 'maria' })).toBe(1)
    expect(sample(now, 'arbiter_resource_prepared_branches', { resource: 'pg' })).toBe(0)
    expect(now.has('arbiter_resource_pool_in_use{resource="maria"}')).toBe(true)
    expect(sample(now, 'arbiter_resource_pool_size', { resource: 'pg' })).toBeGreaterThan(0)
    // PostgreSQL tells its prepared-transaction headroom; MariaDB has none to tell: absent, never 0.
    expect(sample(now, 'arbiter_resource_prepared_headroom', { resource: 'pg' })).toBeGreaterThan(0)
    expect(now.has('arbiter_resource_prepared_headroom{resource="maria"}')).toBe(false)
  })

  it('in-doubt and stuck gauges count a transaction that stays in COMMITTING', async () => {
    // A logged decision for a resource that is no longer configured: recovery
    // adopts it and phase 2 cannot finish it (an operator must resolve it).
    const nodeId = arbiter.coordinator.list()[0]!.gtrid.split(':')[0]!
    await arbiter.log.appendDecision(`${nodeId}:01ARZ3NDEKTSV4RRFFQ69G5FAV`, [{ resource: 'gone', bqual: '6231' }])
    const runsBefore = sample(await scrape(), 'arbiter_recovery_runs_total')
    await arbiter.recovery.scan()
    let now = await scrape()
    expect(sample(now, 'arbiter_recovery_runs_total')).toBeGreaterThan(runsBefore)
    expect(sample(now, 'arbiter_transactions_in_doubt')).toBe(1)
    await new Promise((resolve) => setTimeout(resolve, 300)) // admin.stuckAfterMs is 200 here
    now = await scrape()
    expect(sample(now, 'arbiter_transactions_stuck')).toBe(1)
  })
})
