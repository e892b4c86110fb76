// `arbiter serve` as an operator runs it: a bad config exits with code 2 and
// says what is wrong on stderr (config-errors.test.ts covers every kind of
// problem through the same function); a token under 16 characters used to
// fail start-up with exit code 1 and a JSON log line instead.
import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'arbiter-serve-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function serve(yaml: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, yaml)
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env }
  for (const key of Object.keys(childEnv)) if (key.startsWith('ARBITER_') && !(key in env)) delete childEnv[key]
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'server/main.ts', 'serve', '--config', file], { cwd: REPO, env: childEnv, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr })
    })
  })
}

describe('arbiter serve with a bad config', () => {
  it('an unknown key in the file: exit 2, the key and the nearest known one', async () => {
    const r = await serve(`dataDir: ${dir}/data\nresorces: []\n`)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('resorces: expected a known key (did you mean "resources"?), got the unknown key "resorces"')
    expect(r.stdout).toBe('')
  })

  it('an unknown ARBITER_* variable: exit 2, the variable and the nearest one', async () => {
    const r = await serve(`dataDir: ${dir}/data\n`, { ARBITER_RECOVERY__GRACEMS: '5000' })
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('ARBITER_RECOVERY__GRACEMS (recovery.gracems): expected a known setting (did you mean ARBITER_RECOVERY__GRACE_MS?)')
  })

  it('a token under 16 characters: exit 2 naming the field, the secret not shown', async () => {
    const r = await serve(`dataDir: ${dir}/data\nauth:\n  tokens:\n    - { name: ops, role: admin, token: tiny-secret }\n`)
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('auth.tokens[0].token: expected a secret of at least 16 characters, printable ASCII without spaces (0x21–0x7E: what gRPC metadata can carry), got a secret of 11 characters (not shown)')
    expect(r.stderr + r.stdout).not.toContain('tiny-secret')
  })
})

describe('arbiter serve with a config that names nothing to coordinate', () => {
  it('an empty config starts, and warns that every statement will be refused', async () => {
    const { spawn } = await import('node:child_process')
    const file = join(dir, 'empty.yaml')
    writeFileSync(file, `dataDir: ${dir}/empty-data\nlisten: 127.0.0.1:0\nmetrics: { listen: "" }\n`)
    const child = spawn(process.execPath, ['--import', 'tsx', 'server/main.ts', 'serve', '--config', file], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()))
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no 'arbiter listening' line in: ${out}`)), 30_000)
        child.stdout.on('data', () => out.includes('arbiter listening') && (clearTimeout(timer), resolve()))
      })
      const warning = out.split('\n').find((line) => line.includes('no resources configured'))
      expect(warning).toBeDefined()
      expect(JSON.parse(warning!).level).toBe(40) // pino's warn
    } finally {
      child.kill('SIGTERM')
    }
  })
})

describe('arbiter --version', () => {
  it("prints package.json's version and exits 0", async () => {
    const { readFileSync } = await import('node:fs')
    const version = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { version: string }).version
    for (const flag of ['--version', '-V']) {
      const r = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
        execFile(process.execPath, ['bin/arbiter.js', flag], { cwd: REPO, timeout: 30_000 }, (error, stdout) => resolve({ code: error ? 1 : 0, stdout }))
      })
      expect(r).toEqual({ code: 0, stdout: `${version}\n` })
    }
  })
})

describe('arbiter serve used wrongly', () => {
  const run = (args: string[]): Promise<{ code: number | null; stderr: string }> =>
    new Promise((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'server/main.ts', ...args], { cwd: REPO, timeout: 30_000 }, (error, _stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr })
      })
    })

  it.each([
    [['serve', '--conifg', 'x.yaml'], /unknown option '--conifg'/],
    [['serve', '--config'], /argument missing/],
    [['serve', 'extra'], /too many arguments/],
  ])('%j: a usage error, exit 2 (was 1)', async (args, message) => {
    const r = await run(args)
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(message)
  })
})
