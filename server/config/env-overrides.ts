// ARBITER_* environment variables as config overrides: the prefix, "__" for
// nesting, SCREAMING_SNAKE for camelCase (ARBITER_RECOVERY__GRACE_MS=5000 →
// recovery.graceMs). Each override remembers its variable, so an error in
// a value that came from the environment names the variable, not a file line.
import type { ConfigProblem } from './config-error.js'

/** ARBITER_* variables that other parts of Arbiter read: never config overrides. */
export const NON_CONFIG_VARIABLES: readonly string[] = [
  // arbiter admin (the CLI's own options)
  'ARBITER_ADDRESS',
  'ARBITER_ADMIN_TOKEN',
  'ARBITER_TLS_CA',
  'ARBITER_TLS_CERT',
  'ARBITER_TLS_KEY',
  // applications' own convention in the client examples of docs/client.md
  'ARBITER_TOKEN',
  // fault injection (read by server/failpoints.ts) and the test harness
  'ARBITER_FAILPOINTS',
  'ARBITER_NO_APT',
]
const NON_CONFIG_PREFIXES = ['ARBITER_TEST_', 'ARBITER_HARNESS_']

/** True for an ARBITER_* variable that is meant as a config override. */
export function isConfigVariable(name: string): boolean {
  if (!name.startsWith('ARBITER_') || name === 'ARBITER_') return false
  return !NON_CONFIG_VARIABLES.includes(name) && !NON_CONFIG_PREFIXES.some((p) => name.startsWith(p))
}

/** GRACE_MS → graceMs */
export function camelOf(envPart: string): string {
  return envPart.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase())
}

/** graceMs → GRACE_MS */
export function envPartOf(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()
}

/** The variable that would set this config path: ['recovery', 'graceMs'] → ARBITER_RECOVERY__GRACE_MS. */
export function variableFor(path: readonly (string | number)[]): string {
  return `ARBITER_${path.map((p) => envPartOf(String(p))).join('__')}`
}

export interface EnvOverrides {
  /** The file's object with every override applied (a copy). */
  readonly merged: Record<string, unknown>
  /** Which variable set which path ("recovery.graceMs" → "ARBITER_RECOVERY__GRACE_MS"). */
  readonly origins: ReadonlyMap<string, string>
  /** Variables that index past a list of the file's: a variable changes an entry, it cannot add one. */
  readonly problems: readonly ConfigProblem[]
}

/** The dotted form used as the key of `origins`. */
export function pathKey(path: readonly (string | number)[]): string {
  return path.map(String).join('.')
}

export function applyEnvOverrides(base: Record<string, unknown>, env: NodeJS.ProcessEnv): EnvOverrides {
  const merged: Record<string, unknown> = structuredClone(base)
  const origins = new Map<string, string>()
  const problems: ConfigProblem[] = []
  variables: for (const [key, value] of Object.entries(env)) {
    if (value === undefined || !isConfigVariable(key)) continue
    const path = key.slice('ARBITER_'.length).split('__').map(camelOf)
    let node = merged
    for (const [depth, part] of path.entries()) {
      // Found by hostile testing: ARBITER_RESOURCES__3__URL over a one-entry list made holes, each reported as "got nothing".
      if (Array.isArray(node) && !(/^\d+$/.test(part) && Number(part) < node.length)) {
        const list = pathKey(path.slice(0, depth))
        problems.push({
          path: `${key} (${list})`,
          expected: `the index of an entry ${list} has in the file (0 to ${node.length - 1}): a variable changes an entry, it cannot add one`,
          given: JSON.stringify(part),
        })
        continue variables
      }
      if (depth === path.length - 1) break
      if (typeof node[part] !== 'object' || node[part] === null) node[part] = {}
      node = node[part] as Record<string, unknown>
    }
    node[path[path.length - 1]!] = value
    origins.set(pathKey(path), key)
  }
  return { merged, origins, problems }
}
