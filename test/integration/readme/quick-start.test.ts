// Issue #21, item 9: the README's quick start runs exactly as written. This
// test reads "Your own node and your first transfer" from README.md and runs
// it: the `export` lines, every command of the sh blocks in order (in a
// folder inside the clone, as a user would), the files the yaml/js blocks
// name in their first line, the databases and the node in the background as
// the README says they keep running; then it checks what the transfers did.
// What it does not run, and why:
//   - `npm ci`: the test run has installed the packages already (running it
//     here would replace node_modules under the tests that are running);
//   - `docker compose …`: there is no Docker engine in CI; the local-binaries
//     path (`npm run -s databases`) is run instead, and docker-compose.yml is
//     checked against the quick start by reading it.
// The fixed ports (5434, 3308, 50051, 9464) become free ones, the same
// throughout the section, so the test never collides with anything else on
// the machine; `arbiter admin`'s default address follows through
// ARBITER_ADDRESS.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import mysql from 'mysql2/promise'
import { parse as parseYaml } from 'yaml'
import { afterAll, describe, expect, it } from 'vitest'
import { findMariadb, findPostgres, isMissing } from '../../harness/binaries.js'
import { freePort } from '../../helpers/test-arbiter.js'
import { httpGet } from '../production/helpers.js'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const README = readFileSync(join(REPO, 'README.md'), 'utf8')

/** The quick start's own section, up to the next section (the Docker variant after it is checked in test/integration/deploy/). */
function section(): string {
  const start = README.indexOf('### Your own node and your first transfer')
  expect(start).toBeGreaterThan(0)
  const end = Math.min(...['\n## ', '\n### '].map((heading) => README.indexOf(heading, start + 1)).filter((i) => i > 0))
  return README.slice(start, end)
}

interface Block {
  readonly lang: string
  readonly body: string
}

function blocks(text: string): Block[] {
  return [...text.matchAll(/```(\w+)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1]!, body: m[2]! }))
}

/** Commands the test leaves out, with the reason (see the header). */
const SKIPPED: readonly [RegExp, string][] = [
  [/^npm ci\b/, 'packages are installed by the test run'],
  [/^docker compose\b/, 'no Docker engine in CI: the local-binaries path runs instead'],
]

/** How a command the README runs in the foreground says it is ready. */
const READY: readonly [RegExp, RegExp][] = [
  [/^npm run -s databases\b/, /databases ready/],
  [/^npx arbiter serve\b/, /"arbiter listening"/],
]

const localBinaries = (): string | undefined => {
  const missing = [findPostgres(), findMariadb()].filter(isMissing)
  return missing.length > 0 ? 'the local-binaries path needs the Debian postgresql and mariadb-server binaries' : undefined
}

const background: ChildProcess[] = []
let workDir: string | undefined

afterAll(async () => {
  // The node first, then the databases: SIGINT as Ctrl-C in their terminals would send.
  for (const child of background.reverse()) {
    if (child.exitCode !== null || child.pid === undefined) continue
    const exited = new Promise((resolve) => child.once('exit', resolve))
    process.kill(-child.pid, 'SIGINT')
    await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 15_000))])
  }
  if (workDir) rmSync(workDir, { recursive: true, force: true })
})

describe('README quick start', () => {
  it('docker-compose.yml serves the URLs the quick start exports', () => {
    const text = section()
    const exports = Object.fromEntries([...text.matchAll(/^export (\w+)=(\S+)$/gm)].map((m) => [m[1]!, new URL(m[2]!)]))
    const pgUrl = exports.BANK_PG_URL!
    const myUrl = exports.BANK_MYSQL_URL!
    const compose = parseYaml(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8')) as {
      services: Record<string, { ports: string[]; environment: Record<string, string>; command?: string[]; healthcheck?: unknown }>
    }
    const up = /^docker compose up -d --wait (.*)$/m.exec(text)![1]!.split(/\s+/)
    for (const service of up) expect(compose.services, `service ${service}`).toHaveProperty(service)
    const { postgres, mysql: my } = compose.services
    expect(postgres!.ports).toContain(`127.0.0.1:${pgUrl.port}:5432`)
    expect(postgres!.environment.POSTGRES_PASSWORD).toBe(pgUrl.password)
    expect(pgUrl.username).toBe('postgres')
    expect(Number(/max_prepared_transactions=(\d+)/.exec(postgres!.command!.join(' '))?.[1])).toBeGreaterThan(0)
    expect(my!.ports).toContain(`127.0.0.1:${myUrl.port}:3306`)
    expect(my!.environment.MYSQL_ROOT_PASSWORD).toBe(myUrl.password)
    expect(myUrl.username).toBe('root')
    // --wait needs a health check to wait for.
    for (const service of up) expect(compose.services[service]!.healthcheck, `${service} healthcheck`).toBeDefined()
  })

  it("the node's data folder (dataDir: ./arbiter-data) is ignored by git", async () => {
    expect(section()).toMatch(/dataDir: \.\/arbiter-data/)
    const checked = await run('git check-ignore -q arbiter-data/log/segment-1', REPO, process.env)
    expect(checked.code).toBe(0)
  })

  it('runs as written with the local databases: two transfers committed, the admin CLI sees them', { timeout: 240_000 }, async (ctx) => {
    const why = localBinaries()
    if (why !== undefined) ctx.skip(why)

    // Fixed ports → free ones, everywhere in the section.
    let text = section()
    for (const port of new Set([...text.matchAll(/127\.0\.0\.1:(\d{4,5})\b/g)].map((m) => m[1]!))) {
      text = text.replaceAll(`127.0.0.1:${port}`, `127.0.0.1:${await freePort()}`)
    }
    const grpcAddress = /listen: (127\.0\.0\.1:\d+) # the gRPC port/.exec(text)![1]!
    const metricsAddress = /listen: (127\.0\.0\.1:\d+) # \/metrics/.exec(text)![1]!

    mkdirSync(join(REPO, '.tmp'), { recursive: true }) // a fresh clone has none
    workDir = mkdtempSync(join(REPO, '.tmp', 'quick-start-')) // inside the clone, as the README says
    const env: NodeJS.ProcessEnv = { ...process.env, ARBITER_ADDRESS: grpcAddress, NO_COLOR: '1' }
    for (const key of Object.keys(env)) if (key.startsWith('ARBITER_TEST_')) delete env[key] // the user has none of the harness's
    const outputs: string[] = []

    for (const block of blocks(text)) {
      const firstLine = block.body.split('\n')[0]!
      if (block.lang === 'yaml' || block.lang === 'js') {
        const name = /^(?:#|\/\/) (\S+)$/.exec(firstLine)?.[1]
        expect(name, `a ${block.lang} block names its file in its first line`).toBeDefined()
        writeFileSync(join(workDir, name!), block.body)
        continue
      }
      expect(block.lang).toBe('sh')
      for (const line of block.body.split('\n')) {
        const command = line.replace(/\s+#.*$/, '').trim()
        if (command === '' || SKIPPED.some(([re]) => re.test(command))) continue
        const exported = /^export (\w+)=(\S+)$/.exec(command)
        if (exported) {
          env[exported[1]!] = exported[2]!
          continue
        }
        if (/keeps running/.test(line)) {
          const ready = READY.find(([re]) => re.test(command))?.[1]
          expect(ready, `how "${command}" says it is ready`).toBeDefined()
          const { child, output } = await startBackground(command, workDir, env, ready!)
          background.push(child)
          outputs.push(output())
          continue
        }
        const result = await run(command, workDir, env)
        expect(result.code, `${command}\n${result.output}`).toBe(0)
        outputs.push(`$ ${command}\n${result.output}`)
      }
    }

    const all = outputs.join('\n')
    expect(all).toMatch(/bank ready: accounts 1-10 in PostgreSQL/)
    expect(all).toMatch(/moved 100 from pg account 1 to mysql account 1001: transaction node-1:\S+ committed/)
    expect(all).toMatch(/moved 50 from pg account 2 to mysql account 1002 on your own connections/)
    const listed = /\$ npx arbiter admin transactions\n([\s\S]*?)(?=\n\$ |$)/.exec(all)?.[1] ?? ''
    expect(listed.match(/│ COMMITTED │/g)).toHaveLength(2)
    const resources = JSON.parse(/\$ npx arbiter admin resources --json\n([\s\S]*?)(?=\n\$ |$)/.exec(all)?.[1] ?? '{}') as { resources: { name: string; state: string }[] }
    expect(resources.resources.map((r) => [r.name, r.state])).toEqual([
      ['pg', 'RESOURCE_STATE_READY'],
      ['mysql', 'RESOURCE_STATE_READY'],
    ])
    expect(await httpGet(`http://${metricsAddress}/readyz`)).toEqual({ status: 200, body: 'ready\n' })

    // What landed: both transfers, in both databases.
    const pgClient = new pg.Client({ connectionString: env.BANK_PG_URL })
    await pgClient.connect()
    const my = await mysql.createConnection({ uri: env.BANK_MYSQL_URL! })
    try {
      const pgRows = (await pgClient.query<{ id: number; balance: string }>('SELECT id, balance FROM accounts WHERE id IN (1, 2) ORDER BY id')).rows
      expect(pgRows.map((r) => [r.id, Number(r.balance)])).toEqual([
        [1, 900],
        [2, 950],
      ])
      const [myRows] = await my.query<mysql.RowDataPacket[]>('SELECT id, balance FROM accounts WHERE id IN (1001, 1002) ORDER BY id')
      expect(myRows.map((r) => [r.id as number, Number(r.balance)])).toEqual([
        [1001, 1100],
        [1002, 1050],
      ])
    } finally {
      await pgClient.end()
      await my.end()
    }
  })
})

function run(command: string, cwd: string, env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.once('exit', (code) => resolve({ code, output }))
  })
}

/** Starts a command that keeps running (its own process group, so it can be stopped as Ctrl-C would); resolves once it says it is ready. */
async function startBackground(command: string, cwd: string, env: NodeJS.ProcessEnv, ready: RegExp): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn('bash', ['-c', `exec ${command}`], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (ready.test(output)) {
        clearInterval(timer)
        resolve()
      }
    }, 100)
    child.once('exit', (code) => {
      clearInterval(timer)
      reject(new Error(`"${command}" exited (${code}) before it was ready:\n${output}`))
    })
  })
  return { child, output: () => output }
}
