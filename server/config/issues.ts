// zod's issues as ConfigProblems: the field's path (or the variable that set
// it), what the field takes, described from the schema itself (so "ten"
// and 0 for a pool size both read "expected a whole number from 1 to
// 1000"), and what was given, read from the input before any coercion.
import { z } from 'zod'
import { describeGiven, formatPath, type ConfigProblem } from './config-error.js'
import { pathKey, variableFor } from './env-overrides.js'
import { nearestKey } from './nearest-key.js'

type Schema = z.core.$ZodType

/** One wrapper less: the inner schema of a default, optional or preprocessing step; undefined for a plain one. */
function inner(schema: Schema): Schema | undefined {
  if (schema instanceof z.ZodDefault || schema instanceof z.ZodPrefault || schema instanceof z.ZodOptional || schema instanceof z.ZodNullable) {
    return schema.unwrap()
  }
  if (schema instanceof z.ZodPipe) return schema.out
  return undefined
}

/** The schema below defaults, optionals and preprocessing. */
function unwrap(schema: Schema): Schema {
  let s = schema
  for (let next = inner(s); next !== undefined; next = inner(s)) s = next
  return s
}

/** The schema of the field at `path`, or undefined when the path leaves the schema. */
export function schemaAt(root: Schema, path: readonly PropertyKey[]): Schema | undefined {
  let s: Schema | undefined = root
  for (const part of path) {
    const u: Schema = unwrap(s)
    if (u instanceof z.ZodObject && typeof part === 'string') s = u.shape[part] as Schema | undefined
    else if (u instanceof z.ZodArray) s = u.element
    else return undefined
    if (s === undefined) return undefined
  }
  return s
}

/** The keys an object at `path` knows, or [] when it is not an object. */
export function knownKeys(root: Schema, path: readonly PropertyKey[]): string[] {
  const s = schemaAt(root, path)
  const u = s === undefined ? undefined : unwrap(s)
  return u instanceof z.ZodObject ? Object.keys(u.shape) : []
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v = input
  for (const part of path) {
    if (v === null || typeof v !== 'object') return undefined
    v = (v as Record<PropertyKey, unknown>)[part]
  }
  return v
}

/** What a field takes, in words: from its description, else from its type and bounds. */
export function describeExpected(schema: Schema | undefined): string | undefined {
  if (schema === undefined) return undefined
  for (let s: Schema | undefined = schema; s !== undefined; s = inner(s)) {
    const description = (s as z.ZodType).description
    if (description !== undefined) return description
  }
  const u = unwrap(schema)
  if (u instanceof z.ZodNumber) {
    const kind = u.isInt ? 'a whole number' : 'a number'
    const min = u.minValue !== null && Number.isFinite(u.minValue) && u.minValue > Number.MIN_SAFE_INTEGER ? u.minValue : undefined
    const max = u.maxValue !== null && Number.isFinite(u.maxValue) && u.maxValue < Number.MAX_SAFE_INTEGER ? u.maxValue : undefined
    if (min !== undefined && max !== undefined) return `${kind} from ${min} to ${max}`
    if (min !== undefined) return `${kind} of at least ${min}`
    if (max !== undefined) return `${kind} of at most ${max}`
    return kind
  }
  if (u instanceof z.ZodEnum) return `one of ${u.options.map(String).join(', ')}`
  if (u instanceof z.ZodString) return u.minLength !== null && u.minLength > 0 ? 'a non-empty string' : 'a string'
  if (u instanceof z.ZodBoolean) return 'true or false'
  if (u instanceof z.ZodArray) return 'a list'
  if (u instanceof z.ZodObject) return `a mapping of settings (${Object.keys(u.shape).join(', ')})`
  return undefined
}

interface IssueContext {
  readonly schema: Schema
  /** The merged input (file plus environment), before validation. */
  readonly input: unknown
  /** "recovery.graceMs" → "ARBITER_RECOVERY__GRACE_MS" for values from the environment. */
  readonly origins: ReadonlyMap<string, string>
}

/**
 * The variable behind this path or one of its parents, if the value came
 * from the environment; else one that set something below it (it made this
 * value a mapping: ARBITER_AUTH__TOKENS__0__TOKEN made auth.tokens one); else,
 * for a value that is missing, one that set a sibling (it made the parent
 * exist: ARBITER_TLS__REQUIRE_CLIENT_CERT made tls, which then lacks certFile).
 */
function originOf(origins: ReadonlyMap<string, string>, path: readonly PropertyKey[], missing = false): string | undefined {
  for (let n = path.length; n > 0; n--) {
    const variable = origins.get(pathKey(path.slice(0, n).map(String)))
    if (variable !== undefined) return variable
  }
  const below = (prefix: readonly PropertyKey[]): string | undefined => {
    if (prefix.length === 0) return undefined
    const key = `${pathKey(prefix.map(String))}.`
    for (const [origin, variable] of origins) if (origin.startsWith(key)) return variable
    return undefined
  }
  return below(path) ?? (missing ? below(path.slice(0, -1)) : undefined)
}

/** Names users give a kind that the config spells otherwise (found by a newcomer: kind: mariadb). */
const KNOWN_ALIASES: Readonly<Record<string, string>> = { mariadb: 'mysql', postgresql: 'postgres', pg: 'postgres', pgsql: 'postgres' }

export function problemsOf(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): ConfigProblem[] {
  const out: ConfigProblem[] = []
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) out.push(unknownKey(ctx, issue.path, key))
      continue
    }
    const path = issue.path
    const field = schemaAt(ctx.schema, path)
    const given = describeGiven(valueAt(ctx.input, path), path[path.length - 1])
    const value = valueAt(ctx.input, path)
    out.push({ path: formatPath(path), variable: originOf(ctx.origins, path, value === undefined), expected: expectedOf(issue, field, value), given })
  }
  return out
}

function expectedOf(issue: z.core.$ZodIssue, field: Schema | undefined, value: unknown): string {
  switch (issue.code) {
    // A check with its own words (a regex's description, a refine's rule) says best what it wants.
    case 'invalid_format':
    case 'custom':
      return issue.message
    case 'invalid_value': {
      const options = issue.values.map(String)
      const alias = typeof value === 'string' ? KNOWN_ALIASES[value.toLowerCase()] : undefined
      const near = alias !== undefined && options.includes(alias) ? alias : typeof value === 'string' ? nearestKey(value, options) : undefined
      return `one of ${options.join(', ')}${near !== undefined ? ` (did you mean ${near}?)` : ''}`
    }
    case 'invalid_union':
      return describeExpected(field) ?? 'true or false'
    default:
      return describeExpected(field) ?? issue.message
  }
}

function unknownKey(ctx: IssueContext, parent: readonly PropertyKey[], key: string): ConfigProblem {
  const path = [...parent, key]
  const known = knownKeys(ctx.schema, parent)
  const near = nearestKey(key, known)
  const variable = originOf(ctx.origins, path)
  if (variable !== undefined) {
    const suggestion = near === undefined ? undefined : variableFor([...parent.map(String), near])
    return {
      path: formatPath(path),
      variable,
      expected: suggestion !== undefined ? `a known setting (did you mean ${suggestion}?)` : `a known setting (${known.map((k) => variableFor([...parent.map(String), k])).join(', ')})`,
      given: `${variable}, which Arbiter does not know`,
    }
  }
  return {
    path: formatPath(path),
    expected: near !== undefined ? `a known key (did you mean "${near}"?)` : `one of the known keys${parent.length ? ` of ${formatPath(parent)}` : ''}: ${known.join(', ')}`,
    given: `the unknown key "${key}"`,
  }
}
