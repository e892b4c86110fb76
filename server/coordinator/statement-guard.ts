// Refuses SQL that would end or escape its branch (a stray COMMIT inside a
// PostgreSQL branch commits it locally, outside the protocol, and breaks
// atomicity), and several statements in one call (which one failed would be
// ambiguous). The rules per dialect are in statement-rules.ts; this file adds
// the size limit and remembers verdicts.
import { TmError } from '../../proto/errors.js'
import type { SqlDialect } from '../../adapters/sql/sql-lexer.js'
import { statementRefusal } from '../../adapters/sql/statement-rules.js'

/**
 * Verdicts on recent statement texts per dialect (a refusal message, or null
 * for accepted): applications send the same few texts again and again with
 * new parameters, and lexing one costs more than looking it up. Bounded: only
 * short texts are kept, and the map starts over when full.
 */
const verdicts: Record<SqlDialect, Map<string, string | null>> = { postgres: new Map(), mysql: new Map() }
const REMEMBERED_TEXTS = 1024
const REMEMBERED_TEXT_CHARS = 4096

/** Refuses (INVALID_ARGUMENT) an empty or oversized statement, several statements, or what would end or escape the branch. */
export function checkStatement(sql: string, options: { maxBytes: number; dialect: SqlDialect }): void {
  const bytes = Buffer.byteLength(sql, 'utf8')
  if (bytes > options.maxBytes) {
    throw new TmError('TM_INVALID_ARGUMENT', `statement is ${bytes} bytes, over the limit of ${options.maxBytes} (limits.maxStatementBytes)`)
  }
  const remembered = verdicts[options.dialect]
  let refusal = remembered.get(sql)
  if (refusal === undefined) {
    refusal = statementRefusal(sql, options.dialect)
    if (sql.length <= REMEMBERED_TEXT_CHARS) {
      if (remembered.size >= REMEMBERED_TEXTS) remembered.clear()
      remembered.set(sql, refusal)
    }
  }
  if (refusal !== null) throw new TmError('TM_INVALID_ARGUMENT', refusal)
}

/** Statements that cannot write (SELECT … FOR UPDATE locks, but the probe before phase 1 tells the truth). */
const READ_KEYWORDS = new Set(['select', 'show', 'explain', 'values', 'describe', 'desc', 'get', 'hget', 'exists'])

export function isPlainRead(sql: string): boolean {
  const first = /^[\s(]*([A-Za-z]+)/.exec(sql)?.[1]?.toLowerCase()
  return first !== undefined && READ_KEYWORDS.has(first)
}
