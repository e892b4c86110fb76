// The bank of the load-under-faults tests: fresh databases with the bank's
// tables and accounts, the application's own pools on them, and a TM child
// process (restartable, killable) with 'pg' and 'mysql' resources.
import pg from 'pg'
import mysql from 'mysql2/promise'
import { createBank } from '../../examples/bank-transfer/schema.js'
import { createDatabase, sharedServerUrls } from '../harness/index.js'
import { ArbiterProcess, testConfig } from './test-arbiter.js'
import type { ArbiterConfigInput } from '../../server/config.js'

export interface BankTm {
  readonly pgPool: pg.Pool
  readonly mysqlPool: mysql.Pool
  readonly tm: ArbiterProcess
  readonly nodeId: string
}

export async function startBankTm(
  name: string,
  o: { perBank: number; appPoolSize: number; tmPoolSize: number; overrides?: Partial<ArbiterConfigInput> },
): Promise<BankTm> {
  const { pgUrl, mysqlUrl } = sharedServerUrls()
  const pgDbUrl = await createDatabase(pgUrl, name)
  const mysqlDbUrl = await createDatabase(mysqlUrl, name)
  const pgPool = new pg.Pool({ connectionString: pgDbUrl, max: o.appPoolSize })
  const mysqlPool = mysql.createPool({ uri: mysqlDbUrl, connectionLimit: o.appPoolSize })
  await createBank(pgPool, mysqlPool, o.perBank, 1000)
  const config = testConfig(
    [
      { name: 'pg', kind: 'postgres', url: pgDbUrl, poolSize: o.tmPoolSize },
      { name: 'mysql', kind: 'mysql', url: mysqlDbUrl, poolSize: o.tmPoolSize },
    ],
    o.overrides,
  )
  return { pgPool, mysqlPool, tm: await ArbiterProcess.start(config), nodeId: config.nodeId! }
}
