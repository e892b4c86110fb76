// Config errors that all look alike: where (the path, or the ARBITER_*
// variable that set it), what was expected, what was given. A node with a
// bad config exits with code 2 and prints every problem at once.
import { maskSecrets } from './mask-secrets.js'

export interface ConfigProblem {
  /** The config path in the file's terms: resources[0].poolSize; '' for the whole file. */
  readonly path: string
  /** The ARBITER_* variable the value came from, when it did. */
  readonly variable?: string | undefined
  /** What the field takes (or, for an unknown key, the nearest known one). */
  readonly expected: string
  /** What it was given, fit to print: secrets hidden, URLs without their password. */
  readonly given: string
}

/** resources[0].poolSize from ['resources', 0, 'poolSize']. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const part of path) {
    if (typeof part === 'number' || (typeof part === 'string' && /^\d+$/.test(part))) out += `[${String(part)}]`
    else out += out === '' ? String(part) : `.${String(part)}`
  }
  return out
}

/** "ARBITER_X (x)" for a value from the environment, else the path. */
export function whereOf(problem: Pick<ConfigProblem, 'path' | 'variable'>): string {
  if (problem.variable !== undefined) return problem.path === '' ? problem.variable : `${problem.variable} (${problem.path})`
  return problem.path === '' ? '(the whole file)' : problem.path
}

export function renderProblem(problem: ConfigProblem): string {
  return `${whereOf(problem)}: expected ${problem.expected}, got ${problem.given}`
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError'
  /** Each bad field, when the error came from checking fields (empty for whole-file errors). */
  readonly problems: readonly ConfigProblem[]

  constructor(message: string, problems: readonly ConfigProblem[] = []) {
    super(message)
    this.problems = problems
  }

  /** One error for every problem found, under a heading that names the source (file and/or environment). */
  static of(problems: readonly ConfigProblem[], source: string | undefined): ConfigError {
    const heading = `invalid configuration${source ? ` (${source})` : ''}:`
    return new ConfigError([heading, ...problems.map((p) => `  ${renderProblem(p)}`)].join('\n'), problems)
  }
}

/** Keys whose values are secrets: never echoed, only described. */
const SECRET_KEYS = new Set(['token', 'password', 'secret'])
/** Keys whose values say where a URL is: printed masked, since a URL (or the password itself) ends up there by mistake too. */
const URL_KEYS = new Set(['url', 'urlEnv', 'urlFile'])
/** What an environment variable's name looks like; anything else given as tokenEnv may be the token itself. */
const VARIABLE_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/** A given value fit for an error message. */
export function describeGiven(value: unknown, key: PropertyKey | undefined): string {
  if (value === undefined) return 'nothing'
  if (typeof key === 'string' && SECRET_KEYS.has(key)) {
    return typeof value === 'string' ? `a secret of ${value.length} characters (not shown)` : `a ${typeof value} (not shown)`
  }
  if (typeof key === 'string' && URL_KEYS.has(key) && typeof value === 'string') return JSON.stringify(maskSecrets(value))
  if (key === 'tokenEnv' && typeof value === 'string' && !VARIABLE_NAME.test(value)) {
    return `${value.length} characters that do not name a variable (not shown: it may be the token itself)`
  }
  if (value === null) return 'null (an empty value)'
  if (Array.isArray(value)) return `a list of ${value.length}`
  if (typeof value === 'object') return `a mapping with keys ${Object.keys(value).join(', ') || '(none)'}`
  let text: string
  if (typeof value === 'string') text = JSON.stringify(value)
  else if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') text = String(value)
  else text = `a ${typeof value}`
  return text.length > 120 ? `${text.slice(0, 120)}…` : text
}
