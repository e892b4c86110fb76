// Issue #23, item 4 ("Run it"): docker-compose.yml's `single` and `cluster`
// profiles, run without Docker. The test runs each profile's nodes with the
// SAME command lines (the image's ENTRYPOINT and CMD or the service's
// command), the same environment variables and the same config files from
// deploy/compose/, as compose-nodes.ts reads them from the Dockerfile and
// docker-compose.yml; substitute() (compose-files.ts) changes only what
// names compose's network and file system: service names, ports and mounts
// become the run's throwaway servers (each compose database a fresh one),
// free loopback ports and temporary folders. It throws on anything it has no
// stand-in for, so a compose change this test does not mirror fails here.
// Each profile's nodes must become ready on the image's HEALTHCHECK URL and
// commit a transaction across every resource; `single` also passes the
// HEALTHCHECK command and stops cleanly on SIGTERM within stop_grace_period,
// and `cluster`'s three nodes list each other at their advertised addresses.
//
// The one part of a command line mapped rather than substituted: the image's
// `node /app/bin/arbiter.js` runs the built dist/server/main.js; here it is
// `node --import tsx server/main.ts`, the same program from its source
// (dist/ may be stale, or being rebuilt by the quick-start test of the same
// run). That the image does run it, and that compose's wiring agrees with
// the configs, docker-files.test.ts checks. No `docker build` runs here: CI
// has no Docker engine.
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import mysql from 'mysql2/promise'
import pg from 'pg'
import { Redis } from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createArbiterClient } from '../../../client/index.js'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { freePort } from '../../helpers/test-arbiter.js'
import { tmClient } from '../../helpers/tm-client.js'
import { runAdminCli } from '../admin/cli.js'
import { httpGet } from '../production/helpers.js'
import { REPO, composeUrls, copiesOf, envOf, environmentOf, mountsOf, portsOf, servicesFor, substitute, urlKey, type StandIns } from './compose-files.js'
import { compose, configOf, containerCommand, health, healthUrl, mountedConfig, portOf, runtime, service } from './compose-nodes.js'

const serviceNames = new Set(Object.keys(compose.services))
const work = mkdtempSync(join(tmpdir(), 'arbiter-compose-'))
const running: ChildProcess[] = []

afterAll(async () => {
  await Promise.all(running.map((child) => stop(child, 15_000)))
  rmSync(work, { recursive: true, force: true })
})

/** The image's launcher (`node /app/bin/arbiter.js`, where the runtime stage copies bin/) → the same program from source; and its arguments. */
function localProgram(command: readonly string[]): { program: string[]; args: string[] } {
  const [node, launcher, ...args] = command
  const bin = copiesOf(runtime).find((c) => c.sources.length === 1 && c.sources[0] === 'bin')
  expect(node).toBe('node')
  expect(launcher).toBe(`${bin?.dest}/arbiter.js`)
  return { program: [process.execPath, '--import', 'tsx', join(REPO, 'server/main.ts')], args }
}

/** Test folders, ports and databases standing in for compose's, for the nodes of one profile. */
async function standInsFor(profile: string): Promise<StandIns> {
  const { pgUrl, mysqlUrl, redisUrl } = sharedServerUrls()
  // Which of the run's servers stands in for each compose service a URL may name (each database a fresh one).
  const SERVERS: Record<string, string> = { postgres: pgUrl, store: pgUrl, mysql: mysqlUrl, redis: redisUrl }
  const names = servicesFor(compose, [profile]).filter((n) => service(n).build !== undefined)
  const addresses = new Map<string, string>()
  for (const n of names) for (const p of portsOf(service(n))) addresses.set(`${n}:${p.containerPort}`, `127.0.0.1:${await freePort()}`)
  const urls = new Map<string, string>()
  const texts = names.flatMap((n) => [...Object.values(environmentOf(service(n))), readFileSync(mountedConfig(n).path, 'utf8')])
  for (const url of texts.flatMap((t) => composeUrls(t, serviceNames))) {
    const { key, service: host } = urlKey(url)
    if (urls.has(key)) continue
    const server = SERVERS[host]
    if (server === undefined) throw new Error(`${url}: no test server stands in for compose service ${host}`)
    const database = new URL(url).pathname.slice(1)
    urls.set(key, host === 'redis' || database === '' ? server : await createDatabase(server, `compose_${database}`))
  }
  // Each node's mounts: its volume and tmpfs folders first, then its config files, substituted with them in place.
  const mounts = new Map<string, Map<string, string>>()
  const standIns: StandIns = { services: serviceNames, addresses, urls, mounts }
  for (const n of names) {
    const own = new Map<string, string>()
    mounts.set(n, own)
    for (const m of mountsOf(service(n)).filter((m) => m.kind !== 'bind')) {
      const dir = join(work, n, `${m.kind}-${m.target.split('/').filter(Boolean).join('-')}`)
      mkdirSync(dir, { recursive: true })
      own.set(m.target, dir)
    }
    for (const m of mountsOf(service(n)).filter((m) => m.kind === 'bind')) own.set(m.target, join(work, n, basename(m.source!)))
    for (const m of mountsOf(service(n)).filter((m) => m.kind === 'bind')) {
      writeFileSync(own.get(m.target)!, substitute(readFileSync(join(REPO, m.source!), 'utf8'), n, standIns))
    }
  }
  return standIns
}

interface RunningNode {
  readonly name: string
  readonly child: ChildProcess
  /** The node's gRPC address here (its stand-in). */
  readonly address: string
  /** The image's HEALTHCHECK URL for this node. */
  readonly readyz: string
  readonly env: Record<string, string>
  readonly output: () => string
}

/** Starts the node of a compose service as its container would run: command line, environment, config file. */
async function startNode(name: string, standIns: StandIns): Promise<RunningNode> {
  const s = service(name)
  const { program, args } = localProgram(containerCommand(s))
  const [file, ...programArgs] = [...program, ...args.map((a) => substitute(a, name, standIns))]
  const env: Record<string, string> = { PATH: process.env.PATH ?? '' }
  for (const [k, v] of Object.entries({ ...envOf(runtime), ...environmentOf(s) })) env[k] = substitute(v, name, standIns)
  const child = spawn(file!, programArgs, { cwd: REPO, env, stdio: ['ignore', 'pipe', 'pipe'] })
  running.push(child)
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const config = configOf(name)
  return {
    name,
    child,
    address: substitute(`${name}:${portOf(config.listen)}`, name, standIns),
    readyz: substitute(healthUrl.href, name, standIns),
    env,
    output: () => output,
  }
}

/** Polls the node's /readyz until it answers 200 (fails at once if the node exits). */
async function ready(node: RunningNode): Promise<void> {
  const deadline = Date.now() + 45_000
  for (;;) {
    if (node.child.exitCode !== null) throw new Error(`${node.name} exited (${node.child.exitCode}) during start-up:\n${node.output().slice(-3000)}`)
    const answer = await httpGet(node.readyz).catch(() => undefined)
    if (answer?.status === 200) return
    if (Date.now() > deadline) throw new Error(`${node.name} not ready on ${node.readyz} in 45 s (${answer?.status} ${answer?.body}):\n${node.output().slice(-3000)}`)
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
}

/** Runs the image's HEALTHCHECK command for this node (node → this Node.js); its exit code. */
function runHealthcheck(self: string, standIns: StandIns): Promise<number> {
  const [node, ...args] = health.command
  expect(node).toBe('node')
  return new Promise((resolve) => {
    execFile(process.execPath, args.map((a) => substitute(a, self, standIns)), { timeout: 20_000 }, (error) =>
      resolve(error ? (typeof error.code === 'number' ? error.code : 1) : 0),
    )
  })
}

/** SIGTERM, as docker stop sends; SIGKILL after `graceMs`, as it does then. The exit code (null: killed). */
async function stop(child: ChildProcess, graceMs: number): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  child.kill('SIGTERM')
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs)
  try {
    return await exited
  } finally {
    clearTimeout(timer)
  }
}

/** The URL each resource of the node's config reaches here, by resource name. */
function resourceUrls(name: string, node: RunningNode): Map<string, { kind: string; url: string }> {
  return new Map(configOf(name).resources.map((r) => [r.name, { kind: r.kind, url: r.url ?? node.env[r.urlEnv!]! }]))
}

/** The accounts table on each SQL resource (the TM only connects; applications bring their tables). */
async function createTables(resources: Map<string, { kind: string; url: string }>): Promise<void> {
  for (const { kind, url } of resources.values()) {
    const sql = 'CREATE TABLE IF NOT EXISTS accounts (id int PRIMARY KEY, balance bigint NOT NULL)'
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      await c.query(sql).finally(() => c.end())
    } else if (kind === 'mysql') {
      const c = await mysql.createConnection({ uri: url })
      await c.query(sql).finally(() => c.end())
    }
  }
}

/** One transaction through the node at `address` touching every resource; then what landed where. */
async function transfer(address: string, resources: Map<string, { kind: string; url: string }>, id: number): Promise<Record<string, unknown>> {
  const client = createArbiterClient({ address })
  const key = `compose-${id}-${Date.now()}`
  try {
    await client.transaction(async (tx) => {
      for (const [name, { kind }] of resources) {
        if (kind === 'postgres') await tx.execute(name, 'INSERT INTO accounts VALUES ($1, 100)', [id])
        else if (kind === 'mysql') await tx.execute(name, 'INSERT INTO accounts VALUES (?, 100)', [id])
        else await tx.execute(name, 'SET', [key, 'committed'])
      }
    })
  } finally {
    client.close()
  }
  const landed: Record<string, unknown> = {}
  for (const [name, { kind, url }] of resources) {
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: url })
      await c.connect()
      landed[name] = (await c.query('SELECT balance FROM accounts WHERE id = $1', [id]).finally(() => c.end())).rows[0]?.balance
    } else if (kind === 'mysql') {
      const c = await mysql.createConnection({ uri: url })
      const [rows] = (await c.query('SELECT balance FROM accounts WHERE id = ?', [id]).finally(() => c.end())) as unknown as [{ balance: number }[]]
      landed[name] = String(rows[0]?.balance)
    } else {
      const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 })
      await r.connect()
      landed[name] = await r.get(key).finally(() => r.disconnect())
    }
  }
  return landed
}

describe('profile single, run with its compose command line, variables and config', () => {
  let standIns: StandIns
  let node: RunningNode
  let resources: Map<string, { kind: string; url: string }>

  beforeAll(async () => {
    standIns = await standInsFor('single')
    node = await startNode('arbiter', standIns)
    resources = resourceUrls('arbiter', node)
    await createTables(resources)
    await ready(node)
  })

  it('is ready on the HEALTHCHECK URL, and the HEALTHCHECK command passes (and fails with nothing listening)', async () => {
    expect((await httpGet(node.readyz)).body).toBe('ready\n')
    expect(await runHealthcheck('arbiter', standIns)).toBe(0)
    const nothing: StandIns = { ...standIns, addresses: new Map([[`arbiter:${healthUrl.port}`, `127.0.0.1:${await freePort()}`]]) }
    expect(await runHealthcheck('arbiter', nothing)).toBe(1)
    expect(node.output()).toContain('"decision log open"')
    expect(node.output()).toMatch(/"store":"file"/)
  })

  it('commits a transaction across PostgreSQL, MySQL and Redis', async () => {
    expect([...resources.values()].map((r) => r.kind).sort()).toEqual(['mysql', 'postgres', 'redis'])
    const landed = await transfer(node.address, resources, 1)
    for (const [name, { kind }] of resources) expect(landed[name], name).toBe(kind === 'redis' ? 'committed' : '100')
  })

  it('stops cleanly on SIGTERM (docker stop) within stop_grace_period', async () => {
    const graceMs = Number(/^(\d+)s$/.exec(service('arbiter').stop_grace_period!)![1]) * 1000
    expect(await stop(node.child, graceMs)).toBe(0)
  })
})

describe('profile cluster, three nodes run with their compose command lines, variables and shared config', () => {
  const names = ['arbiter-1', 'arbiter-2', 'arbiter-3']
  let nodes: RunningNode[]

  beforeAll(async () => {
    const standIns = await standInsFor('cluster')
    // Compose starts the three together once the databases and the store are healthy.
    nodes = await Promise.all(names.map((n) => startNode(n, standIns)))
    await createTables(resourceUrls('arbiter-1', nodes[0]!))
    await Promise.all(nodes.map(ready))
  })

  it('all three are ready; ListMembers and `arbiter admin nodes` list the three at their advertised addresses', async () => {
    const ids = names.map((n) => configOf(n).nodeId)
    const { tm, close } = tmClient(nodes[1]!.address)
    try {
      const { members, nodeId } = await tm.ListMembers({})
      expect(nodeId).toBe(ids[1])
      expect(members.map((m) => ({ nodeId: m.nodeId, address: m.address, live: m.live })).sort((a, b) => a.nodeId.localeCompare(b.nodeId))).toEqual(
        nodes.map((n, i) => ({ nodeId: ids[i], address: n.env.ARBITER_CLUSTER__ADVERTISE_ADDRESS, live: true })),
      )
      // The advertised address is the node's own gRPC address (its service name and port in compose).
      for (const n of nodes) expect(n.env.ARBITER_CLUSTER__ADVERTISE_ADDRESS).toBe(n.address)
    } finally {
      close()
    }
    const shown = await runAdminCli(['--address', nodes[2]!.address, '--json', 'nodes'])
    expect(shown.code, shown.stderr).toBe(0)
    const json = JSON.parse(shown.stdout) as { store: string; nodes: { nodeId: string; live: boolean }[] }
    expect(json.store).toBe('postgres')
    expect(json.nodes.filter((n) => n.live).map((n) => n.nodeId).sort()).toEqual([...ids].sort())
  })

  it('a transaction through one node commits on every resource', async () => {
    const resources = resourceUrls('arbiter-2', nodes[1]!)
    const landed = await transfer(nodes[1]!.address, resources, 2)
    for (const [name, { kind }] of resources) expect(landed[name], name).toBe(kind === 'redis' ? 'committed' : '100')
  })
})
