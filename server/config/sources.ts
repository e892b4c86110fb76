// What the config points at outside itself: resource URLs (inline, in an
// environment variable, in a file), token secrets, TLS files. Checked before
// start-up, so a variable that is not set or a file that is missing is a
// config error like any other (exit 2, the field's path, expected, given)
// and not a failure halfway through start-up. Secrets are never printed.
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { readFileSync } from 'node:fs'
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

/** The URL a resource entry gives, or the problem that keeps it from giving one. */
export function resourceUrl(resource: ResourceConfigEntry, index: number, env: NodeJS.ProcessEnv): { url: string } | { problem: ConfigProblem } {
  const at = `resources[${index}]`
  let url: string
  let field: 'url' | 'urlEnv' | 'urlFile'
  if (resource.url !== undefined) {
    url = resource.url
    field = 'url'
  } else if (resource.urlEnv !== undefined) {
    field = 'urlEnv'
    const value = env[resource.urlEnv]
    if (value === undefined || value.trim() === '') {
      const given = `${JSON.stringify(resource.urlEnv)}, which is ${value === undefined ? 'not set' : 'empty'}`
      return { problem: { path: `${at}.urlEnv`, expected: 'the name of an environment variable that holds the URL', given } }
    }
    url = value.trim()
  } else {
    field = 'urlFile'
    const read = readText(resource.urlFile!)
    if ('error' in read) {
      return { problem: { path: `${at}.urlFile`, expected: 'a readable file that holds the URL', given: `${JSON.stringify(resource.urlFile)} (${read.error})` } }
    }
    url = read.text.trim()
  }
  let scheme: string
  try {
    scheme = new URL(url).protocol
  } catch {
    scheme = ''
  }
  const schemes = URL_SCHEMES[resource.kind]
  if (!schemes.includes(scheme)) {
    const via = field === 'url' ? '' : ` (from ${field} ${JSON.stringify(field === 'urlEnv' ? resource.urlEnv : resource.urlFile)})`
    return {
      problem: {
        path: `${at}.${field}`,
        expected: `a ${resource.kind} URL (${schemes.map((s) => `${s}//…`).join(' or ')})`,
        given: `${describeGiven(url, 'url')}${via}`,
      },
    }
  }
  return { url }
}

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
    if (value === undefined || value === '') {
      const given = `${JSON.stringify(entry.tokenEnv)}, which is ${value === undefined ? 'not set' : 'empty'}`
      return { problem: { path: `${at}.tokenEnv`, expected: 'the name of an environment variable that holds the token', given } }
    }
    secret = value
  } else {
    field = 'tokenFile'
    const read = readText(entry.tokenFile!)
    if ('error' in read) {
      return { problem: { path: `${at}.tokenFile`, expected: 'a readable file that holds the token', given: `${JSON.stringify(entry.tokenFile)} (${read.error})` } }
    }
    secret = read.text.trim()
  }
  if (secret.length < MIN_TOKEN_LENGTH) {
    return { problem: { path: `${at}.${field}`, expected: `a secret of at least ${MIN_TOKEN_LENGTH} characters`, given: describeGiven(secret, 'token') } }
  }
  return { secret }
}

/** A PEM file's problem, if any: unreadable, not PEM, or not what the field needs. */
function pemProblem(path: string, field: string, kind: 'certificate' | 'key'): ConfigProblem | undefined {
  const read = readText(path)
  const expected = kind === 'key' ? 'a readable PEM private key file' : 'a readable PEM certificate file'
  if ('error' in read) return { path: `tls.${field}`, expected, given: `${JSON.stringify(path)} (${read.error})` }
  try {
    if (kind === 'key') createPrivateKey(read.text)
    else new X509Certificate(read.text)
  } catch {
    // The content is never echoed: it may be a key.
    return { path: `tls.${field}`, expected, given: `${JSON.stringify(path)}, which holds no PEM ${kind}` }
  }
  return undefined
}

/** Every problem with what the config points at (all of them, not just the first). */
export function sourceProblems(config: ArbiterConfig, env: NodeJS.ProcessEnv): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  config.resources.forEach((r, i) => {
    const got = resourceUrl(r, i, env)
    if ('problem' in got) problems.push(got.problem)
  })
  config.auth.tokens.forEach((t, i) => {
    const got = tokenSecret(t, i, env)
    if ('problem' in got) problems.push(got.problem)
  })
  if (config.tls) {
    const { certFile, keyFile, caFile } = config.tls
    for (const p of [
      pemProblem(certFile, 'certFile', 'certificate'),
      pemProblem(keyFile, 'keyFile', 'key'),
      caFile === undefined ? undefined : pemProblem(caFile, 'caFile', 'certificate'),
    ]) {
      if (p) problems.push(p)
    }
  }
  return problems
}
