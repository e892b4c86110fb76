// A latency probe (concurrency 1): where does one transfer's time go, call by
// call, through the TM? `npx tsx bench/probe-latency.ts [--strace]`.
import { performance } from 'node:perf_hooks'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient } from '../client/index.js'
import { createBank } from '../examples/bank-transfer/schema.js'
import { balanceUpdate, ledgerInsert, legsInLockOrder } from '../examples/bank-transfer/transfer.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart } from '../test/harness/index.js'
import { ArbiterProcess, testConfig } from '../test/helpers/test-arbiter.js'
import { randomTransfer } from './workload.js'

const N = Number(process.env.PROBE_N ?? 300)
const servers = await Promise.all([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])
const pgUrl = await createDatabase(servers[0].url, 'probe')
const mysqlUrl = await createDatabase(servers[1].url, 'probe')
const pgPool = new pg.Pool({ connectionString: pgUrl, max: 4 })
const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: 4 })
await createBank(pgPool, mysqlPool, 1000, 1_000_000)
const tm = await ArbiterProcess.start(
  testConfig(
    [
      { name: 'pg', kind: 'postgres', url: pgUrl, poolSize: 4 },
      { name: 'mysql', kind: 'mysql', url: mysqlUrl, poolSize: 4 },
    ],
    { recovery: { intervalMs: 10_000, graceMs: 30_000 } },
  ),
)
const client = createArbiterClient({ address: tm.address })
const stats = new Map<string, number[]>()
const rec = (k: string, ms: number): void => void (stats.get(k) ?? stats.set(k, []).get(k)!).push(ms)
const time = async <T>(k: string, f: () => Promise<T>): Promise<T> => {
  const t = performance.now()
  try {
    return await f()
  } finally {
    rec(k, performance.now() - t)
  }
}
for (let i = 0; i < N; i++) {
  const t = randomTransfer(1000)
  await time('tx execute (whole)', () =>
    client.transaction(async (tx) => {
      let j = 0
      for (const leg of legsInLockOrder(t)) {
        await time(`  execute ${j++} ${leg.account.bank} update`, () => tx.execute(leg.account.bank, ...balanceUpdate(leg)))
        await time(`  execute ${j++} ${leg.account.bank} insert`, () => tx.execute(leg.account.bank, ...ledgerInsert(t.id, leg)))
      }
    }),
  )
  const t2 = randomTransfer(1000)
  await time('run (one-shot)', () =>
    client.run(legsInLockOrder(t2).flatMap((leg) => [
      { resource: leg.account.bank, sql: balanceUpdate(leg)[0], params: balanceUpdate(leg)[1] },
      { resource: leg.account.bank, sql: ledgerInsert(t2.id, leg)[0], params: ledgerInsert(t2.id, leg)[1] },
    ])),
  )
  await time('pg SELECT 1 (bench pool)', () => pgPool.query('SELECT 1'))
  await time('mysql SELECT 1 (bench pool)', () => mysqlPool.query('SELECT 1'))
  await time('getTransaction (unknown gtrid)', () => client.getTransaction('x:01ARZ3NDEKTSV4RRFFQ69G5FAV').catch(() => undefined))
}
for (const [k, v] of stats) {
  v.sort((a, b) => a - b)
  console.log(`${k.padEnd(34)} p50 ${v[Math.floor(v.length / 2)]!.toFixed(2)} ms  p90 ${v[Math.floor(v.length * 0.9)]!.toFixed(2)} ms`)
}
client.close()
await tm.destroy()
await pgPool.end()
await mysqlPool.end()
await Promise.all(servers.map((s) => s.destroy()))
