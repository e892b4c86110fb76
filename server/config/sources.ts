// What the config points at outside itself: resource URLs (inline, in an
// environment variable, in a file), token secrets, TLS files. Checked before
// start-up, so a variable that is not set or a file that is missing is a
// config error like any other (exit 2, the field's path, expected, given)
// and not a failure halfway through start-up. Secrets are never printed.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { accessSync, constants, readFileSync, statSync } from 'node:fs'
import { dirname, resolve, sep } from 'node:path'
import { createSecureContext } from 'node:tls'
import type { ArbiterConfig, AuthTokenEntry, ResourceConfigEntry } from '../config.js'
import { describeGiven, type ConfigProblem } from './config-error.js'

/** Shorter token secrets are refused: they could be guessed. */
export const MIN_TOKEN_LENGTH = 16

const URL_SCHEMES: Record<ResourceConfigEntry['kind'], readonly string[]> = {
  postgres: ['postgres:', 'postgresql:'],
  mysql: ['mysql:', 'mariadb:'],
  redis: ['redis:', 'rediss:'],
}

function readText(path: string): { text: string } | { error: string } {
  try {
    return { text: readFileSync(path, 'utf8') }
  } catch (error) {
    return { error: (error as NodeJS.ErrnoException).code ?? (error as Error).message }
  }
}

/** Where a URL can come from: inline, an environment variable, or a file (resources[], log). */
interface UrlSources {
  readonly url?: string | undefined
  readonly urlEnv?: string | undefined
  readonly urlFile?: string | undefined
}

/** The URL a resource entry gives, or the problem that keeps it from giving one. */
export function resourceUrl(resource: ResourceConfigEntry, index: number, env: NodeJS.ProcessEnv): { url: string } | { problem: ConfigProblem } {
  return sourcedUrl(resource, `resources[${index}]`, resource.kind, env)
}

/** The shared store's URL (log.store: postgres), or the problem that keeps the log section from giving one. */
export function storeUrl(log: UrlSources, env: NodeJS.ProcessEnv): { url: string } | { problem: ConfigProblem } {
  return sourcedUrl(log, 'log', 'postgres', env)
}

function sourcedUrl(resource: UrlSources, at: string, kind: ResourceConfigEntry['kind'], env: NodeJS.ProcessEnv): { url: string } | { problem: ConfigProblem } {
  let url: string
  let field: 'url' | 'urlEnv' | 'urlFile'
  if (resource.url !== undefined) {
    url = resource.url
    field = 'url'
  } else if (resource.urlEnv !== undefined) {
    field = 'urlEnv'
    const value = env[resource.urlEnv]
    if (value === undefined || value.trim() === '') {
      const given = `${describeGiven(resource.urlEnv, 'urlEnv')}, which is ${value === undefined ? 'not set' : 'empty'}`
      return { problem: { path: `${at}.urlEnv`, expected: 'the name of an environment variable that holds the URL', given } }
    }
    url = value.trim()
  } else {
    field = 'urlFile'
    const read = readText(resource.urlFile!)
    if ('error' in read) {
      return { problem: { path: `${at}.urlFile`, expected: 'a readable file that holds the URL', given: `${describeGiven(resource.urlFile, 'urlFile')} (${read.error})` } }
    }
    url = read.text.trim()
  }
  let scheme: string
  try {
    scheme = new URL(url).protocol
  } catch {
    scheme = ''
  }
  const schemes = URL_SCHEMES[kind]
  if (!schemes.includes(scheme)) {
    const via = field === 'url' ? '' : ` (from ${field} ${describeGiven(field === 'urlEnv' ? resource.urlEnv : resource.urlFile, field)})`
    return {
      problem: {
        path: `${at}.${field}`,
        expected: `a ${kind} URL (${schemes.map((s) => `${s}//…`).join(' or ')})`,
        given: `${describeGiven(url, 'url')}${via}`,
      },
    }
  }
  return { url }
}

/**
 * What a client can send as `authorization: Bearer <token>`: printable ASCII
 * without spaces. grpc-js refuses other metadata values, and HTTP/2 drops a
 * value with a leading or trailing space, so a token with anything else would
 * start cleanly and then refuse every caller (found by hostile testing).
 */
const SENDABLE_TOKEN = /^[\x21-\x7E]*$/

/** The secret of one token entry, or the problem that keeps it from giving one. */
export function tokenSecret(entry: AuthTokenEntry, index: number, env: NodeJS.ProcessEnv): { secret: string } | { problem: ConfigProblem } {
  const at = `auth.tokens[${index}]`
  let secret: string
  let field: string
  if (entry.token !== undefined) {
    secret = entry.token
    field = 'token'
  } else if (entry.tokenEnv !== undefined) {
    field = 'tokenEnv'
    const value = env[entry.tokenEnv]
    if (value === undefined || value.trim() === '') {
      const given = `${describeGiven(entry.tokenEnv, 'tokenEnv')}, which is ${value === undefined ? 'not set' : value === '' ? 'empty' : 'only whitespace'}`
      return { problem: { path: `${at}.tokenEnv`, expected: 'the name of an environment variable that holds the token', given } }
    }
    // Trimmed like tokenFile: `export T=$(cat file)` and secret stores add a newline no client sends.
    secret = value.trim()
  } else {
    field = 'tokenFile'
    const read = readText(entry.tokenFile!)
    if ('error' in read) {
      return { problem: { path: `${at}.tokenFile`, expected: 'a readable file that holds the token', given: `${JSON.stringify(entry.tokenFile)} (${read.error})` } }
    }
    secret = read.text.trim()
  }
  const expected = `a secret of at least ${MIN_TOKEN_LENGTH} characters, printable ASCII without spaces (0x21–0x7E: what gRPC metadata can carry)`
  if (!SENDABLE_TOKEN.test(secret)) {
    // Say what kind of character is wrong, never which or where: that would give part of the secret away.
    const kind = /\s/.test(secret) ? 'whitespace' : 'characters outside printable ASCII'
    return { problem: { path: `${at}.${field}`, expected, given: `a secret of ${secret.length} characters that holds ${kind} (not shown)` } }
  }
  if (secret.length < MIN_TOKEN_LENGTH) {
    return { problem: { path: `${at}.${field}`, expected, given: describeGiven(secret, 'token') } }
  }
  return { secret }
}

/**
 * PKCS#8's ENCRYPTED PRIVATE KEY block or OpenSSL's traditional form
 * (Proc-Type: 4,ENCRYPTED). Spelled with -{5}, so the published package holds
 * no text that looks like a key's first line (npm-pack.test.ts).
 */
const ENCRYPTED_KEY = /-{5}BEGIN ENCRYPTED PRIVATE KEY-{5}|^Proc-Type:\s*4,\s*ENCRYPTED/m

/** A PEM file's problem, if any: unreadable, not PEM, or not what the field needs. */
function pemProblem(path: string, field: string, kind: 'certificate' | 'key'): ConfigProblem | undefined {
  const read = readText(path)
  const expected = kind === 'key' ? 'a readable PEM private key file' : 'a readable PEM certificate file'
  if ('error' in read) return { path: `tls.${field}`, expected, given: `${JSON.stringify(path)} (${read.error})` }
  try {
    if (kind === 'key') createPrivateKey(read.text)
    else new X509Certificate(read.text)
  } catch {
    // The content is never echoed: it may be a key. An encrypted key is PEM, just not one Arbiter can use.
    if (kind === 'key' && ENCRYPTED_KEY.test(read.text)) {
      return { path: `tls.${field}`, expected, given: `${JSON.stringify(path)}, which is encrypted (ENCRYPTED PRIVATE KEY / Proc-Type: 4,ENCRYPTED): give an unencrypted key (Arbiter takes no passphrase)` }
    }
    return { path: `tls.${field}`, expected, given: `${JSON.stringify(path)}, which holds no PEM ${kind}` }
  }
  return undefined
}

/** Kernel file systems: Node 20's recursive mkdir under /proc spins for ever instead of failing. */
const KERNEL_FILE_SYSTEMS = ['/proc', '/sys']

/** dataDir must be a folder, or creatable as one: not a file, not under /proc or /sys. */
function dataDirProblem(dataDir: string): ConfigProblem | undefined {
  const expected = 'a folder Arbiter can create and write its decision log in'
  const full = resolve(dataDir)
  if (KERNEL_FILE_SYSTEMS.some((k) => full === k || full.startsWith(k + sep))) {
    return { path: 'dataDir', expected, given: `${JSON.stringify(dataDir)}, on a kernel file system` }
  }
  // The nearest part of the path that exists must be a folder.
  for (let at = full; ; at = dirname(at)) {
    let isDirectory: boolean
    try {
      isDirectory = statSync(at).isDirectory()
    } catch {
      if (dirname(at) === at) return undefined
      continue
    }
    if (!isDirectory) return { path: 'dataDir', expected, given: `${JSON.stringify(dataDir)}, where ${JSON.stringify(at)} is a file` }
    // Created or written there at start-up: a read-only mount or a folder of another user fails now, named, not
    // later as a bare ENOENT or EACCES of mkdir (found by hostile testing).
    try {
      accessSync(at, constants.W_OK)
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'not writable'
      return { path: 'dataDir', expected, given: `${JSON.stringify(dataDir)}, where ${JSON.stringify(at)} cannot be written (${code === 'EROFS' ? 'a read-only file system' : code})` }
    }
    return undefined
  }
}

/** A certificate and key that do not belong together fail the first TLS handshake's setup: say so at start-up. */
function tlsPairProblem(certFile: string, keyFile: string): ConfigProblem | undefined {
  try {
    createSecureContext({ cert: readFileSync(certFile), key: readFileSync(keyFile) })
    return undefined
  } catch (error) {
    return {
      path: 'tls.keyFile',
      expected: 'the private key of tls.certFile',
      given: `${JSON.stringify(keyFile)} (${error instanceof Error ? error.message : String(error)})`,
    }
  }
}

/** Every problem with what the config points at (all of them, not just the first). */
export function sourceProblems(config: ArbiterConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  config.resources.forEach((r, i) => {
    const got = resourceUrl(r, i, env)
    if ('problem' in got) problems.push(got.problem)
  })
  if (config.log.store === 'postgres') {
    const got = storeUrl(config.log, env)
    if ('problem' in got) problems.push(got.problem)
  }
  config.auth.tokens.forEach((t, i) => {
    const got = tokenSecret(t, i, env)
    if ('problem' in got) problems.push(got.problem)
  })
  if (config.tls) {
    const { certFile, keyFile, caFile } = config.tls
    const pems = [pemProblem(certFile, 'certFile', 'certificate'), pemProblem(keyFile, 'keyFile', 'key')]
    // Only once each reads as PEM: a pair check would repeat their problems.
    const pair = pems.every((p) => p === undefined) ? tlsPairProblem(certFile, keyFile) : undefined
    for (const p of [...pems, pair, caFile === undefined ? undefined : pemProblem(caFile, 'caFile', 'certificate')]) {
      if (p) problems.push(p)
    }
  }
  const dir = dataDirProblem(config.dataDir)
  if (dir) problems.push(dir)
  return problems
}
