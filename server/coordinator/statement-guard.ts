// Refuses SQL that would end or escape its branch. A stray COMMIT inside a
// PostgreSQL branch commits it locally, outside the protocol, and breaks
// atomicity; several statements in one call make "which one failed"
// ambiguous and let the rest run after an error. So: one statement, and no
// transaction control of its own.
import { TmError } from '../../proto/errors.js'

/** Leading keywords that control transactions (after comments and whitespace). */
const FORBIDDEN_START: readonly (readonly string[])[] = [
  ['commit'],
  ['end'],
  ['abort'],
  ['begin'],
  ['start', 'transaction'],
  ['prepare', 'transaction'],
  ['xa'],
  ['lock', 'tables'],
  ['unlock', 'tables'],
  ['set', 'autocommit'],
  ['set', 'session', 'characteristics'],
]

/**
 * Verdicts on recent statement texts (a refusal message, or null for
 * accepted): applications send the same few texts again and again with new
 * parameters, and scanning one costs more than looking it up. Bounded: only
 * short texts are kept, and the map starts over when full.
 */
const verdicts = new Map<string, string | null>()
const REMEMBERED_TEXTS = 1024
const REMEMBERED_TEXT_CHARS = 4096

/** Refuses (INVALID_ARGUMENT) an empty or oversized statement, several statements, or transaction control. */
export function checkStatement(sql: string, options: { maxBytes: number }): void {
  const bytes = Buffer.byteLength(sql, 'utf8')
  if (bytes > options.maxBytes) {
    throw new TmError('TM_INVALID_ARGUMENT', `statement is ${bytes} bytes, over the limit of ${options.maxBytes} (limits.maxStatementBytes)`)
  }
  let refusal = verdicts.get(sql)
  if (refusal === undefined) {
    refusal = refusalOf(sql)
    if (sql.length <= REMEMBERED_TEXT_CHARS) {
      if (verdicts.size >= REMEMBERED_TEXTS) verdicts.clear()
      verdicts.set(sql, refusal)
    }
  }
  if (refusal !== null) throw new TmError('TM_INVALID_ARGUMENT', refusal)
}

/**
 * Splits off the words of the statement's start and checks that nothing but
 * whitespace or comments follows a top-level ';'. Quotes ('…', "…", `…`,
 * $tag$…$tag$) and comments (-- …, # … on MySQL, /* … *\/) are skipped.
 */
function refusalOf(sql: string): string | null {
  if (sql.trim() === '') return 'statement is empty'
  const code = stripQuotedAndComments(sql)
  const semicolon = code.indexOf(';')
  if (semicolon !== -1 && code.slice(semicolon + 1).trim() !== '') return 'several statements in one call: send one statement per Execute'
  const words = code.trim().toLowerCase().split(/[\s;(]+/).filter(Boolean)
  const isRollback = words[0] === 'rollback'
  // ROLLBACK TO [SAVEPOINT] x stays inside the branch; any other ROLLBACK ends it.
  const rollbackEndsBranch = isRollback && words[1] !== 'to' && !(words[1] === 'work' && words[2] === 'to')
  const forbidden = rollbackEndsBranch || FORBIDDEN_START.some((prefix) => prefix.every((w, i) => words[i] === w))
  if (forbidden) {
    return `"${words.slice(0, 2).join(' ').toUpperCase()}" would end or escape the branch: Arbiter commits and rolls back; use Commit/Rollback`
  }
  return null
}

/** The statement with every quoted string and comment replaced by a space. */
function stripQuotedAndComments(sql: string): string {
  let out = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    const next = sql[i + 1]
    if (c === '-' && next === '-') {
      i = endOf(sql, '\n', i + 2)
    } else if (c === '#') {
      i = endOf(sql, '\n', i + 1)
    } else if (c === '/' && next === '*') {
      i = endOf(sql, '*/', i + 2)
    } else if (c === "'" || c === '"' || c === '`') {
      i = endOfQuoted(sql, c, i + 1)
    } else if (c === '$') {
      const tag = /^\$[A-Za-z_]*\$/.exec(sql.slice(i))
      if (tag) i = endOf(sql, tag[0], i + tag[0].length)
      else i += 1
    } else {
      out += c
      i += 1
      continue
    }
    out += ' '
  }
  return out
}

function endOf(sql: string, terminator: string, from: number): number {
  const at = sql.indexOf(terminator, from)
  return at === -1 ? sql.length : at + terminator.length
}

/** Skips a quoted run; a doubled quote or a backslash escapes it. */
function endOfQuoted(sql: string, quote: string, from: number): number {
  let i = from
  while (i < sql.length) {
    if (sql[i] === '\\') {
      i += 2
      continue
    }
    if (sql[i] === quote) {
      if (sql[i + 1] === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i += 1
  }
  return sql.length
}

/** Statements that cannot write (SELECT … FOR UPDATE locks, but the probe before phase 1 tells the truth). */
const READ_KEYWORDS = new Set(['select', 'show', 'explain', 'values', 'describe', 'desc', 'get', 'hget', 'exists'])

export function isPlainRead(sql: string): boolean {
  const first = /^[\s(]*([A-Za-z]+)/.exec(sql)?.[1]?.toLowerCase()
  return first !== undefined && READ_KEYWORDS.has(first)
}
