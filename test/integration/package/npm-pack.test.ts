// Issue #26, item 2: the package as users get it. `npm run build` and
// `npm pack` (in a copy of the package's sources: packing.ts), then:
//   - the tarball: its size (printed), only what "files" means to ship, no
//     tests, benchmarks, local state, keys or secrets, no source map of a
//     test; publint and arethetypeswrong (profile esm-only: the package ships
//     ES modules only, so attw's CommonJS resolution modes are not checked
//     here but below, as Node and TypeScript really behave);
//   - installed with `npm install <tarball>` in a fresh project: a strict
//     NodeNext TypeScript application compiles against `arbiter-tm/client`
//     (and `arbiter-tm/adapters`) without @types/pg; a CommonJS consumer can
//     require() it (Node ≥ 20.19, the package's engines: require(esm)) and
//     TypeScript compiles its `import` under nodenext, while `module: node16`
//     and Node without require(esm) answer "use import()"; the `arbiter`
//     command: --help, `admin --help`, and `serve` on a config with no
//     resources, asked by `arbiter admin`, stopped by SIGTERM.
// The dependencies install from the npm cache (--prefer-offline) or the
// registry; without a registry the consumer tests skip outside CI.
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest'
import { buildAndPack, IN_CI, NETWORK_ERROR, PKG, REPO, run, TS_VERSION, userEnv, type Packed } from './packing.js'

const work = mkdtempSync(join(tmpdir(), 'arbiter-pack-'))
const app = join(work, 'app')
const started = Date.now()
let packed: Packed
/** Why the consumer project could not be installed (no registry, not CI). */
let noInstall: string | undefined
const servers: number[] = []

beforeAll(async () => {
  packed = await buildAndPack(work)
  mkdirSync(app)
  const init = await run('npm', ['init', '-y'], app)
  expect(init.code, init.output).toBe(0)
  expect((await run('npm', ['pkg', 'set', 'type=module'], app)).code).toBe(0)
  const install = await run('npm', ['install', packed.tarball, `typescript@${TS_VERSION}`, '--no-audit', '--no-fund', '--prefer-offline'], app, 180_000)
  if (install.code !== 0) {
    if (IN_CI || !NETWORK_ERROR.test(install.output)) throw new Error(`npm install of the tarball failed\n${install.output}`)
    noInstall = `the npm registry cannot be reached, so the tarball's dependencies cannot be installed: ${NETWORK_ERROR.exec(install.output)![0]}`
  }
}, 300_000)

afterAll(() => {
  for (const pid of servers) {
    try {
      process.kill(-pid, 'SIGKILL')
    } catch {
      // already gone
    }
  }
  rmSync(work, { recursive: true, force: true })
  console.log(`npm-pack.test.ts: ${((Date.now() - started) / 1000).toFixed(1)} s in all`)
})

function needInstall(ctx: TestContext): void {
  if (noInstall !== undefined) ctx.skip(noInstall)
}

/** Whether the process (or, for a negative pid, a process of the group) still runs. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

function write(path: string, text: string): void {
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, text)
}

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string, prefix = ''): string[] {
  return readdirSync(dir).flatMap((entry) =>
    statSync(join(dir, entry)).isDirectory() ? filesUnder(join(dir, entry), `${prefix}${entry}/`) : [`${prefix}${entry}`],
  )
}

describe('the tarball', () => {
  it('states its size and holds the build, the launcher, the .proto contract, README, the docs and package.json only', () => {
    console.log(`${packed.tarball.split('/').pop()}: ${(packed.size / 1024).toFixed(0)} kB packed, ${(packed.unpackedSize / 1024).toFixed(0)} kB unpacked, ${packed.files.length} files`)
    const shipped = [
      /^(package\.json|README\.md|LICENSE)$/,
      /^docs\/[\w-]+\.md$/, // the README links to them (found by a newcomer: dead links in the installed package)
      /^bin\/arbiter\.js$/,
      /^proto\/(arbiter|google)\/[\w/]+\.proto$/,
      /^dist\/(client|adapters|server|proto)\/[\w./-]+\.(js|d\.ts|js\.map|proto)$/,
    ]
    expect(packed.files.filter((file) => !shipped.some((re) => re.test(file)))).toEqual([])
    for (const needed of ['dist/client/index.js', 'dist/client/index.d.ts', 'dist/adapters/index.js', 'dist/adapters/index.d.ts', 'dist/server/main.js', PKG.files.includes('bin') ? 'bin/arbiter.js' : 'bin']) {
      expect(packed.files).toContain(needed)
    }
    // The loader reads the .proto files beside it at run time; other languages read proto/.
    for (const proto of ['arbiter/v1/transaction_manager.proto', 'arbiter/v1/admin.proto', 'google/rpc/error_details.proto']) {
      expect(packed.files).toContain(`dist/proto/${proto}`)
      expect(packed.files).toContain(`proto/${proto}`)
    }
    // About three times today's size: something large got in.
    expect(packed.size).toBeLessThan(1_500_000)
  })

  it('holds no tests, benchmarks, local state, keys or secrets, and no source map of a test', async () => {
    const forbidden: [RegExp, string][] = [
      [/(^|\/)(test|tests|__tests__|fixtures|bench|examples|coverage)\//, 'tests, benchmarks and examples'],
      [/\.(test|spec|bench)\.([cm]?[jt]s|d\.ts)(\.map)?$/, 'test files'],
      [/(^|\/)(\.tmp|arbiter-data|node_modules)\//, 'local state'],
      [/(^|\/)(\.env(\..*)?|\.npmrc)$/, 'environment and npm settings'],
      [/\.(pem|key|crt|cer|csr|p12|pfx|jks)$/, 'keys and certificates'],
      [/\.(ya?ml|toml|ini|conf|log)$/, 'config files and logs'],
    ]
    for (const [re, what] of forbidden) expect(packed.files.filter((file) => re.test(file)), what).toEqual([])

    const unpacked = join(work, 'unpacked')
    mkdirSync(unpacked)
    const tar = await run('tar', ['-xzf', packed.tarball, '-C', unpacked], work)
    expect(tar.code, tar.output).toBe(0)
    const root = join(unpacked, 'package')
    const files = filesUnder(root)
    expect(files.sort()).toEqual([...packed.files].sort())
    for (const file of files) {
      const text = readFileSync(join(root, file), 'utf8')
      expect(text, `${file} holds a private key`).not.toMatch(/-----BEGIN [A-Z ]*PRIVATE KEY-----/)
      expect(text, `${file} holds an npm token`).not.toMatch(/\bnpm_[A-Za-z0-9]{36}\b/)
      if (file.endsWith('.map')) {
        const map = JSON.parse(text) as { sources: string[]; sourcesContent?: unknown }
        expect(map.sources.filter((source) => /(^|\/)(test|bench|examples)\//.test(source)), file).toEqual([])
        expect(map.sourcesContent, `${file} embeds its sources`).toBeUndefined()
      }
    }
  })

  it('publint (strict) and arethetypeswrong (profile esm-only) find no problem', async () => {
    const publint = await run(join(REPO, 'node_modules/.bin/publint'), ['run', packed.tarball, '--strict'], work)
    expect(publint.code, publint.output).toBe(0)
    expect(publint.stdout).toContain('All good!')
    const attw = await run(join(REPO, 'node_modules/.bin/attw'), [packed.tarball, '--profile', 'esm-only', '--no-color', '--no-emoji'], work)
    expect(attw.code, attw.output).toBe(0)
  })
})

describe('installed in a fresh project', () => {
  it('a strict NodeNext ESM application compiles against arbiter-tm/client and arbiter-tm/adapters without @types/pg', async (ctx) => {
    needInstall(ctx)
    expect(readdirSync(join(app, 'node_modules/@types'))).not.toContain('pg')
    write(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: false }, include: ['src'] }))
    write(
      join(app, 'src/transfer.ts'),
      `import {
  createArbiterClient,
  ArbiterError,
  OutcomeUnknownError,
  TransactionAbortedError,
  UnavailableError,
  type ArbiterClient,
  type ArbiterClientOptions,
  type EnlistableConnection,
  type ExecuteResult,
  type TmErrorCode,
  type Transaction,
} from 'arbiter-tm/client'

const options: ArbiterClientOptions = { address: '127.0.0.1:50051' }
export const client: ArbiterClient = createArbiterClient(options)

export async function transfer(conn: EnlistableConnection, from: number, to: number, amount: number): Promise<number> {
  try {
    return await client.transaction(async (tx: Transaction) => {
      await tx.enlist('ledger', conn)
      await tx.execute('bank', 'UPDATE accounts SET balance = balance - $1 WHERE id = $2', [amount, from])
      const r: ExecuteResult<{ balance: string }> = await tx.execute<{ balance: string }>('bank', 'SELECT balance FROM accounts WHERE id = $1', [to])
      return Number(r.rows[0]?.balance ?? 0)
    })
  } catch (error) {
    if (error instanceof TransactionAbortedError || error instanceof UnavailableError) return -1
    if (error instanceof OutcomeUnknownError) return -2
    if (error instanceof ArbiterError) {
      const code: TmErrorCode = error.code
      throw new Error(\`\${code} (retryable: \${String(error.retryable)})\`, { cause: error })
    }
    throw error
  }
}
`,
    )
    write(
      join(app, 'src/integrator.ts'),
      `import { PostgresAdapter, classifyPgError, makeXid, type PgClientLike, type ResourceAdapter } from 'arbiter-tm/adapters'

export const kinds: ResourceAdapter['kind'][] = ['postgres', 'mysql', 'redis']
export type Session = PgClientLike
export const used: unknown[] = [PostgresAdapter, classifyPgError, makeXid]
`,
    )
    const tsc = await run(join(app, 'node_modules/.bin/tsc'), ['-p', '.'], app)
    expect(tsc.code, tsc.output).toBe(0)
  })

  it('a CommonJS consumer: require() works (Node ≥ 20.19), TypeScript under nodenext compiles it, node16 and older Node say "use import()"', async (ctx) => {
    needInstall(ctx)
    expect(PKG.engines.node).toBe('>=20.19')
    const cjs = join(app, 'cjs')
    write(join(cjs, 'package.json'), JSON.stringify({ name: 'cjs-consumer', private: true, type: 'commonjs' }))
    const keys = 'console.log(JSON.stringify(Object.keys(m).sort()))'
    const imported = await run('node', ['--input-type=module', '-e', `const m = await import('arbiter-tm/client'); ${keys}`], cjs)
    expect(imported.code, imported.output).toBe(0)
    const required = await run('node', ['-e', `const m = require('arbiter-tm/client'); ${keys}`], cjs)
    expect(required.code, required.output).toBe(0)
    expect(JSON.parse(required.stdout)).toEqual(JSON.parse(imported.stdout))
    expect(JSON.parse(required.stdout)).toContain('createArbiterClient')
    // Node before 20.19 (or with require(esm) turned off) refuses, pointing at import().
    const older = await run('node', ['--no-experimental-require-module', '-e', "require('arbiter-tm/client')"], cjs)
    expect(older.code).not.toBe(0)
    expect(older.stderr).toContain('ERR_REQUIRE_ESM')

    write(join(cjs, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', rootDir: 'src', outDir: 'out', skipLibCheck: false }, include: ['src'] }))
    write(
      join(cjs, 'src/main.ts'),
      `import { createArbiterClient, ArbiterError, type ArbiterClient } from 'arbiter-tm/client'

const client: ArbiterClient = createArbiterClient({ address: '127.0.0.1:1' })
console.log(JSON.stringify({ factory: typeof createArbiterClient, error: new ArbiterError('TM_INTERNAL', 'x') instanceof Error }))
client.close()
`,
    )
    const tsc = join(app, 'node_modules/.bin/tsc')
    const compiled = await run(tsc, ['-p', '.'], cjs)
    expect(compiled.code, compiled.output).toBe(0)
    expect(readFileSync(join(cjs, 'out/main.js'), 'utf8')).toContain("require(\"arbiter-tm/client\")")
    const ran = await run('node', ['out/main.js'], cjs)
    expect(ran.code, ran.output).toBe(0)
    expect(JSON.parse(ran.stdout)).toEqual({ factory: 'function', error: true })
    const node16 = await run(tsc, ['-p', '.', '--module', 'node16', '--moduleResolution', 'node16', '--noEmit'], cjs)
    expect(node16.code).not.toBe(0)
    expect(node16.stdout).toMatch(/TS1479: .*ECMAScript module and cannot be imported with 'require'. Consider writing a dynamic 'import\("arbiter-tm\/client"\)' call instead/)
  })

  it('npx arbiter: --help, --version and admin --help', async (ctx) => {
    needInstall(ctx)
    const help = await run('npx', ['arbiter', '--help'], app, 30_000)
    expect(help.code, help.output).toBe(0)
    expect(help.stdout).toMatch(/Usage: arbiter[\s\S]*\bserve\b[\s\S]*\badmin\b/)
    const version = await run('npx', ['arbiter', '--version'], app, 30_000)
    expect(version.stdout.trim(), version.output).toBe(PKG.version)
    const admin = await run('npx', ['arbiter', 'admin', '--help'], app, 30_000)
    expect(admin.code, admin.output).toBe(0)
    expect(admin.stdout).toMatch(/Usage: arbiter admin[\s\S]*\btransactions\b[\s\S]*\bin-doubt\b/)
  })

  it('npx arbiter serve starts on a config with no resources, answers arbiter admin, and stops on SIGTERM', async (ctx) => {
    needInstall(ctx)
    const config = join(app, 'arbiter.yaml')
    write(config, `dataDir: ${join(app, 'arbiter-data')}\nlisten: 127.0.0.1:0\nmetrics:\n  listen: ''\n`)
    // Its own process group, signalled as a whole, as a terminal or a service manager does:
    // npm 11's `npx` does not pass a SIGTERM sent to its own pid on to the program it runs.
    const child = spawn('npx', ['arbiter', 'serve', '--config', config], { cwd: app, env: userEnv(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] })
    servers.push(child.pid!)
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()))
    // 'close': every process holding its stdout (npx, sh, the server) has exited.
    const closed = new Promise<void>((resolve) => child.once('close', () => resolve()))
    await expect.poll(() => out, { timeout: 30_000, interval: 100 }).toContain('"arbiter listening"')
    const listening = JSON.parse(out.split('\n').find((line) => line.includes('"arbiter listening"'))!) as { address: string }
    const admin = await run('npx', ['arbiter', 'admin', '--address', listening.address, 'transactions', '--json'], app, 30_000)
    expect(admin.code, admin.output).toBe(0)
    expect(JSON.parse(admin.stdout)).toEqual({ transactions: [] })

    process.kill(-child.pid!, 'SIGTERM')
    const stop = await Promise.race([closed.then(() => 'closed'), new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 20_000))])
    expect(stop, out).toBe('closed')
    expect(out).toContain('"shutting down"')
    expect(out).toContain('"arbiter stopped"')
    await expect.poll(() => alive(-child.pid!), { timeout: 10_000, message: 'a process of the group is still running' }).toBe(false)
  })
})
