// The decision log's disk fails under a running TM: the disk fills up, an
// fsync fails, a record is torn or damaged. No transaction is ever reported
// committed unless its decision is durable, none is rolled back once it might
// be, and damage the TM cannot explain stops it with the place named. While
// the log cannot write, /readyz says 503 and why, and 200 again by itself.
import { execFileSync, spawnSync } from 'node:child_process'
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { status } from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sharedServerUrls } from '../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../helpers/databases.js'
import { ArbiterProcess, startTestArbiter, testConfig } from '../helpers/test-arbiter.js'
import { grpcError, tmClient } from '../helpers/tm-client.js'

let dbs: TestDatabases
let id = 0
beforeAll(async () => {
  dbs = await createTestDatabases(sharedServerUrls(), 'logfault')
})
afterAll(async () => {
  await dbs?.close()
})

const resources = () => [
  { name: 'pg', kind: 'postgres' as const, url: dbs.pgUrl },
  { name: 'maria', kind: 'mysql' as const, url: dbs.mysqlUrl },
]

async function transfer(client: ReturnType<typeof tmClient>): Promise<{ gtrid: string; n: number; commit: Promise<unknown> }> {
  const n = ++id
  const { gtrid } = await client.tm.Begin({})
  const p = [{ intValue: String(n) }]
  await client.tm.Execute({ gtrid, statement: { resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: p } })
  await client.tm.Execute({ gtrid, statement: { resource: 'maria', sql: 'INSERT INTO accounts VALUES (?, 1)', params: p } })
  return { gtrid, n, commit: client.tm.Commit({ gtrid }) }
}

async function rows(n: number): Promise<{ pg: number; maria: number }> {
  const p = await dbs.pgQuery('SELECT 1 FROM accounts WHERE id = $1', [n])
  const m = await dbs.mysqlQuery('SELECT 1 FROM accounts WHERE id = ?', [n])
  return { pg: p.length, maria: m.length }
}

function canMount(): boolean {
  const probe = mkdtempSync(join(tmpdir(), 'arbiter-mount-probe-'))
  const ok = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]).status === 0
  if (ok) spawnSync('umount', [probe])
  rmSync(probe, { recursive: true, force: true })
  return ok
}

/** Appends 1 KiB at a time until ENOSPC: the returned file holds every free block of the filesystem. */
function fillUp(dir: string): string {
  const filler = join(dir, 'filler')
  try {
    for (let i = 0; ; i++) appendFileSync(filler, Buffer.alloc(1024, i))
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error
  }
  return filler
}

/** GET /readyz of a TM child process (its metrics port is logged as "metrics listening"). */
async function readyz(tm: ArbiterProcess): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://${tm.metricsAddress()}/readyz`)
  return { status: response.status, body: await response.text() }
}

const mountable = canMount()

describe.skipIf(!mountable)(`disk full (a real 64 KiB tmpfs${mountable ? '' : ': skipped, this machine refuses mount -t tmpfs (needs root or CAP_SYS_ADMIN)'})`, () => {
  it('a decision that cannot be written rolls the transaction back; the TM serves again once space is back', async () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'arbiter-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint])
    const arbiter = await startTestArbiter(resources(), { dataDir: join(mountPoint, 'data') })
    const client = tmClient(arbiter.address)
    try {
      // Fill every free block: the segment's current page still takes a few records, then ENOSPC.
      const filler = fillUp(mountPoint)
      let failed: { gtrid: string; n: number; error: { code: number; details: string } } | undefined
      for (let attempt = 0; attempt < 60 && !failed; attempt++) {
        const t = await transfer(client)
        const outcome = await t.commit.then(
          () => undefined,
          (e: { code: number; details: string }) => e,
        )
        if (outcome) failed = { gtrid: t.gtrid, n: t.n, error: outcome }
        else expect(await rows(t.n)).toEqual({ pg: 1, maria: 1 })
      }
      expect(failed, 'the disk never filled up').toBeDefined()
      expect(failed!.error.code).toBe(status.ABORTED)
      expect(failed!.error.details).toMatch(/decision could not be logged.*ENOSPC|ENOSPC/)
      expect(await rows(failed!.n)).toEqual({ pg: 0, maria: 0 })
      expect(await dbs.preparedLeft(arbiter.coordinator.begin().gtrid.split(':')[0]!)).toEqual({ pg: [], mysql: [] })

      rmSync(filler)
      const after = await transfer(client)
      await after.commit
      expect(await rows(after.n)).toEqual({ pg: 1, maria: 1 })
    } finally {
      client.close()
      await arbiter.stop()
      spawnSync('umount', [mountPoint])
      rmSync(mountPoint, { recursive: true, force: true })
    }
  })

  // Issue #20.3: readiness means "a Commit sent now can be decided". The TM runs as a child
  // process, as in production; its data folder is on the tiny tmpfs.
  it('/readyz says 503 naming ENOSPC while the log cannot write, and 200 by itself once space is back', async () => {
    const mountPoint = mkdtempSync(join(tmpdir(), 'arbiter-full-'))
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mountPoint])
    const config = testConfig(resources(), { dataDir: join(mountPoint, 'data') })
    let tm: ArbiterProcess | undefined
    let client: ReturnType<typeof tmClient> | undefined
    try {
      tm = await ArbiterProcess.start(config)
      client = tmClient(tm.address)
      expect(await readyz(tm)).toMatchObject({ status: 200, body: expect.stringMatching(/^ready/) })
      const before = await transfer(client)
      await before.commit
      expect(await rows(before.n)).toEqual({ pg: 1, maria: 1 })

      // Full, with no commit sent yet: only the probe can tell (it runs every 2 s).
      const filler = fillUp(mountPoint)
      const filledAt = performance.now()
      await expect.poll(async () => (await readyz(tm!)).status, { timeout: 3000, interval: 25 }).toBe(503)
      const toUnready = performance.now() - filledAt
      expect((await readyz(tm)).body).toMatch(/^not ready: the decision log cannot write: .*ENOSPC/)

      // The segment's last page may still take a few records; the first decision that needs a new one is refused.
      let refused: { gtrid: string; n: number; error: { code: number; details: string } } | undefined
      let committedWhileFull = 0
      for (let attempt = 0; attempt < 60 && !refused; attempt++) {
        const t = await transfer(client)
        const error = await t.commit.then(
          () => undefined,
          (e: { code: number; details: string }) => e,
        )
        if (error) refused = { gtrid: t.gtrid, n: t.n, error }
        else {
          committedWhileFull += 1
          expect(await rows(t.n)).toEqual({ pg: 1, maria: 1 })
          // A decision that fit in space the segment already had does not make the disk less full.
          expect((await readyz(tm)).status).toBe(503)
        }
      }
      expect(refused, 'no commit was refused on the full disk').toBeDefined()
      expect(refused!.error.code).toBe(status.ABORTED)
      expect(refused!.error.details).toMatch(/ENOSPC/)
      expect((await client.tm.GetTransaction({ gtrid: refused!.gtrid })).state).toBe('TRANSACTION_STATE_ROLLED_BACK')
      expect(await rows(refused!.n)).toEqual({ pg: 0, maria: 0 })
      expect(await dbs.preparedLeft(config.nodeId!)).toEqual({ pg: [], mysql: [] })
      expect(await readyz(tm)).toMatchObject({ status: 503, body: expect.stringMatching(/the decision log cannot write: .*ENOSPC/) })

      // Space back: nobody commits, so only the probe can bring readiness back.
      rmSync(filler)
      const freedAt = performance.now()
      await expect.poll(async () => (await readyz(tm!)).status, { timeout: 5000, interval: 25 }).toBe(200)
      const toReady = performance.now() - freedAt
      expect((await readyz(tm)).body).toMatch(/^ready/)
      const after = await transfer(client)
      await after.commit
      expect(await rows(after.n)).toEqual({ pg: 1, maria: 1 })
      expect(await dbs.preparedLeft(config.nodeId!)).toEqual({ pg: [], mysql: [] })
      console.info(
        `readyz on a full disk: 503 after ${toUnready.toFixed(0)} ms, 200 again ${toReady.toFixed(0)} ms after space came back; ` +
          `${committedWhileFull} commit(s) fit in the segment's last page before the refusal`,
      )
    } finally {
      client?.close()
      await tm?.destroy()
      spawnSync('umount', [mountPoint])
      rmSync(mountPoint, { recursive: true, force: true })
    }
  })
})

const hasStrace = spawnSync('strace', ['-V']).status === 0

describe.skipIf(!hasStrace)('fsync fails with EIO (strace fault injection)', () => {
  it('fail-stop: the commit is reported as unknown, never as committed; after a restart it ends atomic', async () => {
    const config = testConfig(resources())
    const segment = join(config.dataDir!, 'log', 'segment-0000000001.log')
    // Every fdatasync of the segment fails. (strace counts `when=` per thread and libuv syncs on
    // pool threads, so the segment is created by a first, clean start, which needs an fdatasync.)
    const strace = ['strace', '-f', '-qq', '-o', '/dev/null', '-P', segment, '-e', 'trace=fdatasync', '-e', 'inject=fdatasync:error=EIO', '--']
    const tm = await ArbiterProcess.start(config, {}, strace)
    await tm.stop()
    await tm.spawn()
    const client = tmClient(tm.address)
    try {
      const t = await transfer(client)
      const error = await grpcError(t.commit)
      expect(error.code).toBe(status.DEADLINE_EXCEEDED) // TM_OUTCOME_UNKNOWN
      expect(error.details).toMatch(/decision log failed/)
      expect((await client.tm.GetTransaction({ gtrid: t.gtrid })).state).toBe('TRANSACTION_STATE_PREPARING')
      // The failed log takes no new transaction: it could never commit, and would only strand prepared branches.
      const refused = await grpcError(client.tm.Begin({}))
      expect(refused.code).toBe(status.UNAVAILABLE)
      expect(refused.details).toMatch(/decision log has failed.*nothing was begun/)

      await tm.kill()
      await tm.spawn({}, { wrapped: false })
      await expect.poll(() => dbs.preparedLeft(config.nodeId!), { timeout: 20_000, interval: 250 }).toEqual({ pg: [], mysql: [] })
      expect([{ pg: 0, maria: 0 }, { pg: 1, maria: 1 }]).toContainEqual(await rows(t.n))
    } finally {
      client.close()
      await tm.destroy()
    }
  })
})

describe('damaged log at start-up', () => {
  async function logWithDecisions(): Promise<{ tm: ArbiterProcess; segment: string }> {
    const config = testConfig(resources())
    const tm = await ArbiterProcess.start(config)
    const client = tmClient(tm.address)
    for (let i = 0; i < 3; i++) await (await transfer(client)).commit
    client.close()
    await tm.kill()
    const dir = join(config.dataDir!, 'log')
    return { tm, segment: join(dir, readdirSync(dir).find((n) => n.endsWith('.log'))!) }
  }

  it('a corrupt record in the middle: the TM refuses to start and says where', async () => {
    const { tm, segment } = await logWithDecisions()
    const bytes = readFileSync(segment)
    bytes[20] = bytes[20]! ^ 0x40
    writeFileSync(segment, bytes)
    await expect(tm.spawn()).rejects.toThrow(/segment-0000000001\.log: checksum mismatch at byte 8 .*Refusing to start/s)
    await tm.destroy()
  })

  it('a torn record at the tail: the TM cuts it and starts', async () => {
    const { tm, segment } = await logWithDecisions()
    appendFileSync(segment, Buffer.from([0x40, 0, 0, 0, 1, 2, 3])) // a frame header promising 64 bytes that never came
    await tm.spawn()
    const client = tmClient(tm.address)
    const t = await transfer(client)
    await t.commit
    expect(await rows(t.n)).toEqual({ pg: 1, maria: 1 })
    client.close()
    await tm.destroy()
  })

  it('a second TM on the same data folder is refused', async () => {
    const config = testConfig(resources())
    const first = await ArbiterProcess.start(config)
    mkdirSync(config.dataDir!, { recursive: true })
    const second = await ArbiterProcess.start({ ...config }).catch((e: Error) => e)
    expect(second).toBeInstanceOf(Error)
    expect((second as Error).message).toMatch(/in use by another Arbiter process/)
    await first.destroy()
  })
})
