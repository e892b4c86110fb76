// A list of statements for the TM (tx.executeBatch(), client.run()): the
// application's shape, checked and converted to the wire's in one place.
import type { Statement as WireStatement } from '../proto/gen/arbiter/v1/Statement.js'
import { InvalidArgumentError } from './errors.js'
import { toProtoValue, type SqlParam } from './values.js'

/** One statement of tx.executeBatch() or client.run(). */
export interface Statement {
  readonly resource: string
  readonly sql: string
  /** Parameters, as for tx.execute() (default none). */
  readonly params?: readonly SqlParam[]
}

/** The wire form of `statements`; InvalidArgumentError (naming `what` and the statement) when one is malformed. */
export function toWireStatements(statements: readonly Statement[], what: string): WireStatement[] {
  if (!Array.isArray(statements) || statements.length === 0) throw new InvalidArgumentError(`${what} needs at least one statement`)
  return statements.map((s: Statement | undefined, i) => {
    if (!s?.resource || !s.sql) throw new InvalidArgumentError(`${what}: statement ${i + 1} needs resource and sql`)
    const params: unknown = s.params === undefined ? [] : s.params
    if (!Array.isArray(params)) throw new InvalidArgumentError(paramsNotArray(`${what}: statement ${i + 1}`, params))
    return { resource: s.resource, sql: s.sql, params: params.map((p: SqlParam, j) => toProtoValue(p, j + 1)) }
  })
}

/** The error for params that are not an array (found by hostile testing: a TypeError, "params.map is not a function"). */
export function paramsNotArray(what: string, params: unknown): string {
  return `${what}: params must be an array of values, one per placeholder ($1, $2… or ?), e.g. [42, 'abc'] (got ${params === null ? 'null' : typeof params})`
}
