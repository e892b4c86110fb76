// Issue #21, item 10: what a node logs at each level is what the README says
// (Quick start, step 4; Server, Metrics → Logs). At `info`: its life cycle,
// every rollback with its reason, no line per committed transaction. At
// `debug`: each transaction's steps (begun, branch started, branch voted,
// decision logged, committed).
import { readFileSync, rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../../client/index.js'
import { startArbiterServer } from '../../../server/arbiter-server.js'
import { parseConfig } from '../../../server/config.js'
import { createLogger } from '../../../server/logger.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { testConfig } from '../../helpers/test-arbiter.js'

let dbs: TestDatabases
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'loglevels')
})
afterAll(async () => dbs?.close())

interface Line {
  readonly level: number
  readonly msg: string
  readonly gtrid?: string
}

/** A node at `level`: one two-phase commit and one rollback; every line it logged. */
async function logsAt(level: 'info' | 'debug'): Promise<{ lines: Line[]; committed: string; rolledBack: string }> {
  let text = ''
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      text += chunk.toString()
      callback()
    },
  })
  const config = parseConfig(
    testConfig([
      { name: 'pg', kind: 'postgres', url: dbs.pgUrl },
      { name: 'mysql', kind: 'mysql', url: dbs.mysqlUrl },
    ]),
  )
  const server = await startArbiterServer(config, { logger: createLogger({ level, destination }) })
  const client = createArbiterClient({ address: server.address })
  let committed: string
  let rolledBack = ''
  try {
    const id = level === 'info' ? 1 : 2
    committed = await client.transaction(async (tx) => {
      await tx.execute('pg', 'INSERT INTO accounts VALUES ($1, 1)', [id])
      await tx.execute('mysql', 'INSERT INTO accounts VALUES (?, 1)', [id])
      return tx.gtrid
    })
    await client
      .transaction(async (tx) => {
        rolledBack = tx.gtrid
        await tx.execute('pg', 'SELECT 1')
        throw new Error('changed my mind')
      })
      .catch(() => undefined)
  } finally {
    client.close()
    await server.stop()
    rmSync(config.dataDir, { recursive: true, force: true })
  }
  const lines = text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Line)
  return { lines, committed, rolledBack }
}

describe('log levels', () => {
  it('info: the life cycle and rollbacks, nothing per committed transaction', async () => {
    const { lines, committed, rolledBack } = await logsAt('info')
    const messages = lines.map((l) => l.msg)
    for (const msg of ['metrics listening', 'decision log open', 'resource ready', 'start-up recovery done', 'arbiter listening', 'arbiter stopped']) {
      expect(messages).toContain(msg)
    }
    expect(lines.filter((l) => l.gtrid === committed)).toEqual([])
    expect(lines.filter((l) => l.gtrid === rolledBack)).toEqual([expect.objectContaining({ level: 30, msg: 'rolling back' })])
  })

  it("debug: each transaction's steps", async () => {
    const { lines, committed } = await logsAt('debug')
    const steps = lines.filter((l) => l.gtrid === committed).map((l) => l.msg)
    for (const msg of ['begun', 'branch started', 'branch voted', 'decision logged: committing', 'committed']) expect(steps).toContain(msg)
  })

  it('the README says the same', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8')
    const said = /At the default level, `info`, a node logs (.*?); the steps of each transaction \((.*?)\) are logged at `debug`/.exec(readme)
    expect(said).not.toBeNull()
    expect(said![1]).toMatch(/every rollback with its reason/)
    expect(said![2]).toBe('begun, branch started, voted, decision logged, committed')
  })
})
