// Runs Python scripts against the client in examples/python/: Debian's
// python3, the stubs generated from proto/ into a temp folder, and
// PYTHONPATH with the stubs and the example. Shared by the Python tests
// that drive one fixture script each (test/fixtures/python/).
import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const PYTHON = '/usr/bin/python3'
export const EXAMPLE = fileURLToPath(new URL('../../../examples/python', import.meta.url))
const FIXTURES = fileURLToPath(new URL('../../fixtures/python', import.meta.url))
const PACKAGES = 'python3-grpcio python3-grpc-tools python3-psycopg2 python3-pymysql'

/** Why the Python side cannot run here, if it cannot: Debian's python3 lacks a package. */
export function pythonMissing(): string | undefined {
  const probe = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools.protoc, psycopg2, pymysql'], { encoding: 'utf8' })
  if (probe.status === 0) return undefined
  const why = (probe.error?.message ?? probe.stderr ?? '').trim().split('\n').pop()
  return `${PYTHON} cannot import grpc, grpc_tools, psycopg2 and pymysql (${why}): apt-get install ${PACKAGES}`
}

/** Skipped only outside CI (.ci/run installs the packages): there a missing one fails the test. */
export function skipPython(): boolean {
  const missing = pythonMissing()
  if (missing !== undefined && process.env.CI !== 'true') {
    console.warn(`skipping a Python client test: ${missing}`)
    return true
  }
  return false
}

export type PyRecord = Record<string, unknown>

/** The stubs, built once per test file; remove() when done. */
export class PythonFixtures {
  private constructor(private readonly stubs: string) {}

  static build(): PythonFixtures {
    const missing = pythonMissing()
    if (missing) throw new Error(missing)
    const stubs = mkdtempSync(join(tmpdir(), 'arbiter-py-stubs-'))
    const built = spawnSync(PYTHON, [join(EXAMPLE, 'build_stubs.py'), stubs], { encoding: 'utf8', env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } })
    if (built.status !== 0) throw new Error(`build_stubs.py failed:\n${built.stderr}`)
    return new PythonFixtures(stubs)
  }

  /** PYTHONPATH for a Python process of the test's own: the stubs and the example. */
  get pythonPath(): string {
    return `${this.stubs}:${EXAMPLE}`
  }

  remove(): void {
    rmSync(this.stubs, { recursive: true, force: true })
  }

  /** Runs test/fixtures/python/<script> (or the script at an absolute path) to its end; its stdout's JSON lines. */
  async run(script: string, args: readonly string[], timeoutMs = 60_000): Promise<PyRecord[]> {
    const child = spawn(PYTHON, [resolve(FIXTURES, script), ...args], {
      env: { ...process.env, PYTHONPATH: this.pythonPath, PYTHONDONTWRITEBYTECODE: '1', PYTHONUNBUFFERED: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()))
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()))
    const code = await new Promise<number | null>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL')
        reject(new Error(`${script} did not finish in ${timeoutMs} ms:\n${stderr.slice(-3000)}`))
      }, timeoutMs)
      child.once('exit', (c) => {
        clearTimeout(timer)
        resolve(c)
      })
    })
    if (code !== 0) throw new Error(`${script} exited with ${code}:\n${stderr.slice(-3000)}`)
    return stdout
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as PyRecord)
  }
}

/** The records by their `case` field. */
export function byCase(records: readonly PyRecord[]): Record<string, PyRecord> {
  return Object.fromEntries(records.map((r) => [String(r.case), r]))
}
