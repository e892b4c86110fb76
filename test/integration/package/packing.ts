// Helpers of npm-pack.test.ts: packing the package the way `npm publish`
// would, and running commands the way a user's shell would.
import { execFile } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const REPO = fileURLToPath(new URL('../../..', import.meta.url))
export const IN_CI = process.env.CI === 'true' || process.env.CI === '1'

interface PackageJson {
  name: string
  version: string
  files: string[]
  scripts: Record<string, string>
  engines: { node: string }
}

export const PKG = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson

/** The TypeScript the repo builds with (the exact installed version), for the consumer projects. */
export const TS_VERSION = (JSON.parse(readFileSync(join(REPO, 'node_modules/typescript/package.json'), 'utf8')) as { version: string }).version

/**
 * The environment of a user's shell: none of the variables `npm test` sets
 * (npm_config_local_prefix would send a nested `npm install` to the repo),
 * no ARBITER_* settings of the test run (`arbiter serve` refuses unknown
 * ones), no NODE_OPTIONS, and not the repo's node_modules/.bin on the PATH.
 */
export function userEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|ARBITER_|INIT_CWD$|NODE_OPTIONS$)/i.test(key)) continue
    env[key] = value
  }
  env.PATH = (process.env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => !dir.startsWith(join(REPO, 'node_modules')))
    .join(delimiter)
  env.NO_COLOR = '1'
  return env
}

export interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
  /** stdout and stderr, for assertion messages. */
  readonly output: string
}

/** Runs a command to its end; never rejects (a failure is a non-zero code, a timeout a null one). */
export function run(command: string, args: readonly string[], cwd: string, timeoutMs = 120_000): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, env: userEnv(), timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === 'number' ? error.code : null
      resolve({ code, stdout, stderr, output: `$ ${command} ${args.join(' ')} (in ${cwd}): exit ${code}\n${stdout}\n${stderr}` })
    })
  })
}

export interface Packed {
  readonly tarball: string
  /** Bytes of the .tgz. */
  readonly size: number
  readonly unpackedSize: number
  readonly files: readonly string[]
}

/**
 * What a clean checkout needs to build and pack: package.json's "files"
 * (less the build output), what tsconfig.build.json compiles, the scripts the
 * build runs, and the files npm always packs.
 */
function packageSources(): string[] {
  const tsBuild = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] }
  const scripts = [...PKG.scripts.build!.matchAll(/\bnode (\S+)/g)].map((m) => m[1]!)
  const shipped = PKG.files.map((entry) => entry.split('/')[0]!).filter((top) => top !== 'dist')
  const always = ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE', '.npmignore']
  return [...new Set([...always, ...tsBuild.include, ...scripts, ...shipped])].filter((path) => existsSync(join(REPO, path)))
}

/**
 * `npm run build` and `npm pack` in a copy of the package's sources in
 * `dir`: a clean build (no dist/ left from an older one), and the repo's own
 * dist/ is never rewritten under tests that run it.
 */
export async function buildAndPack(dir: string): Promise<Packed> {
  const stage = join(dir, 'stage')
  for (const path of packageSources()) cpSync(join(REPO, path), join(stage, path), { recursive: true })
  symlinkSync(join(REPO, 'node_modules'), join(stage, 'node_modules'), 'dir')
  const build = await run('npm', ['run', 'build'], stage)
  if (build.code !== 0) throw new Error(`npm run build failed\n${build.output}`)
  const out = join(dir, 'tarball')
  mkdirSync(out)
  const pack = await run('npm', ['pack', '--json', '--pack-destination', out], stage)
  if (pack.code !== 0) throw new Error(`npm pack failed\n${pack.output}`)
  const [result] = JSON.parse(pack.stdout) as { filename: string; size: number; unpackedSize: number; files: { path: string }[] }[]
  return { tarball: join(out, result!.filename), size: result!.size, unpackedSize: result!.unpackedSize, files: result!.files.map((f) => f.path) }
}

/** npm's words for a registry it could not reach. */
export const NETWORK_ERROR = /\b(ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|EHOSTUNREACH|ERR_SOCKET_TIMEOUT)\b|network request to \S+ failed/i
