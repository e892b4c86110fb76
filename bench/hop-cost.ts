// What one more round trip costs the application: CPU per transfer of this
// process (the load generator) for raw 2PC, raw 2PC plus one SELECT 1, raw
// 2PC plus one gRPC call to the TM, and Arbiter with local branches and
// through the TM, each at a fixed concurrency, rounds interleaved. Also the
// TM's CPU and write syscalls per transfer. `npx tsx bench/hop-cost.ts [--concurrency 32]
// [--transfers 4000] [--rounds 2]`. Ratios are to raw 2PC in the same round.
import { readFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createArbiterClient } from '../client/index.js'
import { createBank } from '../examples/bank-transfer/schema.js'
import { createDatabase, mariadbFromEnvOrStart, postgresFromEnvOrStart } from '../test/harness/index.js'
import { ArbiterProcess, testConfig } from '../test/helpers/test-arbiter.js'
import { procCpuSeconds } from './tm-stats.js'
import { randomTransfer, runTransfer, type Workload } from './workload.js'

const { values } = parseArgs({ options: { concurrency: { type: 'string' }, transfers: { type: 'string' }, rounds: { type: 'string' } } })
const concurrency = Number(values.concurrency ?? 32)
const transfers = Number(values.transfers ?? 4000)
const rounds = Number(values.rounds ?? 2)
const ACCOUNTS = 10_000

const servers = await Promise.all([postgresFromEnvOrStart(), mariadbFromEnvOrStart()])
const pgUrl = await createDatabase(servers[0].url, 'hops')
const mysqlUrl = await createDatabase(servers[1].url, 'hops')
const poolSize = Math.min(concurrency, 40)
const pgPool = new pg.Pool({ connectionString: pgUrl, max: poolSize })
const mysqlPool = mysql.createPool({ uri: mysqlUrl, connectionLimit: poolSize, resetOnRelease: false })
await createBank(pgPool, mysqlPool, ACCOUNTS, 1_000_000_000)
const tm = await ArbiterProcess.start(
  testConfig(
    [
      { name: 'pg', kind: 'postgres', url: pgUrl, poolSize },
      { name: 'mysql', kind: 'mysql', url: mysqlUrl, poolSize },
    ],
    { transactions: { defaultTimeoutMs: 30_000, localBranchGraceMs: 5_000 }, recovery: { intervalMs: 10_000, graceMs: 30_000 } },
  ),
)
const client = createArbiterClient({ address: tm.address })
const workload: Workload = { pgPool, mysqlPool, accountsPerBank: ACCOUNTS, clientFor: () => client }
// A committed transaction to ask the TM about: the extra gRPC call reads it back.
const known = (await client.run([{ resource: 'pg', sql: 'SELECT 1' }])).transaction.gtrid

const raw = (): Promise<void> => runTransfer('raw-2pc', workload, 0, randomTransfer(ACCOUNTS))
const VARIANTS: Record<string, () => Promise<unknown>> = {
  'raw 2PC': raw,
  'raw 2PC + SELECT 1': () => raw().then(() => pgPool.query('SELECT 1')),
  'raw 2PC + gRPC call': () => raw().then(() => client.getTransaction(known)),
  'local branches': () => runTransfer('tm-enlist', workload, 0, randomTransfer(ACCOUNTS)),
  'through the TM': () => runTransfer('tm-execute', workload, 0, randomTransfer(ACCOUNTS)),
}

function writeSyscalls(pid: number | string): number {
  return Number(/syscw: (\d+)/.exec(readFileSync(`/proc/${pid}/io`, 'utf8'))?.[1] ?? NaN)
}

interface Cost {
  readonly appCpuMs: number
  readonly appWrites: number
  readonly tmCpuMs: number
  readonly tmWrites: number
}

async function measure(op: () => Promise<unknown>, n: number): Promise<Cost> {
  const cpu = process.cpuUsage()
  const writes = writeSyscalls('self')
  const tmCpu = procCpuSeconds(tm.pid) ?? NaN
  const tmWrites = writeSyscalls(tm.pid!)
  let next = 0
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < n) await op()
    }),
  )
  const used = process.cpuUsage(cpu)
  return {
    appCpuMs: (used.user + used.system) / 1000 / n,
    appWrites: (writeSyscalls('self') - writes) / n,
    tmCpuMs: (((procCpuSeconds(tm.pid) ?? NaN) - tmCpu) * 1000) / n,
    tmWrites: (writeSyscalls(tm.pid!) - tmWrites) / n,
  }
}

for (const op of Object.values(VARIANTS)) await measure(op, 300) // warm-up
for (let round = 1; round <= rounds; round++) {
  process.stderr.write(`round ${round}/${rounds}, ${transfers} transfers per variant at concurrency ${concurrency}\n`)
  const costs = new Map<string, Cost>()
  for (const [name, op] of Object.entries(VARIANTS)) costs.set(name, await measure(op, transfers))
  const base = costs.get('raw 2PC')!.appCpuMs
  console.log(`\nround ${round}: ms of CPU and write syscalls per transfer (application = this process)`)
  console.log('variant'.padEnd(22), 'app CPU', '  ÷ raw', 'app writes', 'TM CPU', 'TM writes')
  for (const [name, c] of costs) {
    const tmPart = name.startsWith('raw 2PC') && !name.includes('gRPC') ? '     —         —' : `${c.tmCpuMs.toFixed(2).padStart(6)} ${c.tmWrites.toFixed(2).padStart(9)}`
    console.log(name.padEnd(22), c.appCpuMs.toFixed(3).padStart(7), `${(c.appCpuMs / base).toFixed(2)}×`.padStart(7), c.appWrites.toFixed(2).padStart(10), tmPart)
  }
}

client.close()
await tm.destroy()
await pgPool.end()
await mysqlPool.end()
await Promise.all(servers.map((s) => s.destroy()))
