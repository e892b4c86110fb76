// What a statement run through the TM may be, per dialect: the first, cheap
// line of defence that keeps a branch inside its transaction. The second line
// is the server's own word after every statement (the adapters check that the
// session is still in its transaction); see docs/client.md, "Through the TM: `tx.execute`".
//
// PostgreSQL ends a transaction block only through top-level transaction
// control (COMMIT, END, ABORT, ROLLBACK, PREPARE TRANSACTION): procedures, DO
// blocks, functions and triggers cannot inside a block ("invalid transaction
// termination"), and the extended protocol takes one statement. So a deny
// list of leading keywords is complete there.
//
// MySQL/MariaDB are another matter: stored procedures may run XA END, XA
// PREPARE and XA COMMIT … ONE PHASE, and functions and triggers XA END
// (verified on MariaDB 10.11: a CALL committed the branch in one phase, and a
// trigger on an INSERT ended it), SQL-level PREPARE/EXECUTE and EXECUTE
// IMMEDIATE run any text, SET STATEMENT … FOR wraps any statement, and
// executable comments (/*! … */, /*M! … */) are code. So there the leading
// keyword must be on an allow list of what a branch needs.
import { lexSql, type SqlDialect } from './sql-lexer.js'

const MYSQL_ALLOWED = new Set(['select', 'insert', 'update', 'delete', 'replace', 'with', 'values', 'table', 'show', 'describe', 'desc', 'explain', 'do', 'savepoint'])

const CONTROL = 'would end or escape the branch: Arbiter commits and rolls back; use Commit/Rollback'

/** Why the statement is refused, or null when it may run on a branch of that dialect. */
export function statementRefusal(sql: string, dialect: SqlDialect): string | null {
  if (sql.trim() === '') return 'statement is empty'
  if (sql.includes('\0')) return 'statement contains a NUL character'
  if (dialect === 'mysql' && /\/\*m?!/i.test(sql)) {
    return 'executable comments (/*! … */, /*M! … */) are refused on MySQL/MariaDB branches: the server runs them as code. Pass such text as a parameter'
  }
  // Whether backslashes escape depends on a session setting: judge both
  // readings. A reading in which a quote or comment never closes is one the
  // server refuses as a syntax error, so it cannot run anything.
  let unterminated: string | undefined
  let judged = 0
  for (const backslashEscapes of [true, false]) {
    const lexed = lexSql(sql, { dialect, backslashEscapes })
    if (lexed.unterminated) {
      unterminated = lexed.unterminated === 'comment' ? 'comment' : 'quoted string or identifier'
      continue
    }
    judged++
    const refusal = codeRefusal(lexed.code.toLowerCase(), dialect)
    if (refusal !== null) return refusal
  }
  return judged === 0 ? `unterminated ${unterminated ?? 'quote'}` : null
}

function codeRefusal(code: string, dialect: SqlDialect): string | null {
  const semicolon = code.indexOf(';')
  if (semicolon !== -1 && code.slice(semicolon + 1).trim() !== '') return 'several statements in one call: send one statement per Execute'
  const statement = (semicolon === -1 ? code : code.slice(0, semicolon)).replace(/^[\s(]+/, '')
  const words = statement.split(/[^a-z0-9_$@]+/).filter(Boolean)
  if (words.length === 0) return 'statement has no code, only comments'
  return dialect === 'postgres' ? postgresRefusal(words, statement) : mysqlRefusal(words, statement)
}

/** ROLLBACK TO [SAVEPOINT] x stays inside the branch; every other ROLLBACK ends it. */
function isRollbackToSavepoint(words: readonly string[]): boolean {
  return words[1] === 'to' || ((words[1] === 'work' || words[1] === 'transaction') && words[2] === 'to')
}

function quoted(words: readonly string[], n: number): string {
  return `"${words.slice(0, n).join(' ').toUpperCase()}"`
}

function postgresRefusal(words: readonly string[], statement: string): string | null {
  const [first, second] = words
  switch (first) {
    case 'commit':
    case 'end':
    case 'abort':
    case 'begin':
    case 'start':
      return `${quoted(words, 2)} ${CONTROL}`
    case 'rollback':
      return isRollbackToSavepoint(words) ? null : `${quoted(words, 2)} ${CONTROL}`
    case 'prepare':
      return second === 'transaction'
        ? `${quoted(words, 2)} ${CONTROL}`
        : '"PREPARE" (SQL-level prepared statements) is refused: send the statement itself with parameters'
    case 'execute':
    case 'deallocate':
      return `${quoted(words, 1)} (SQL-level prepared statements) is refused: send the statement itself with parameters`
    case 'xa':
      return `${quoted(words, 2)} ${CONTROL}`
    case 'copy':
      return '"COPY" is refused through the TM: it streams data outside the request/answer protocol'
    case 'set':
      return postgresSetRefusal(words, statement)
    default:
      return null
  }
}

/**
 * PostgreSQL SET: SET CONSTRAINTS and SET LOCAL of ordinary settings only. A
 * session-level SET outlives the branch on the TM's pooled session (it
 * survives PREPARE TRANSACTION and would apply to later transactions), and
 * transaction characteristics and roles are the TM's business (a prepared
 * transaction may only be finished by the role that prepared it).
 */
function postgresSetRefusal(words: readonly string[], statement: string): string | null {
  const [, second, third] = words
  if (second === 'constraints') return null
  if (words.slice(1, 5).some((w) => w === 'role' || w === 'authorization')) {
    return '"SET ROLE" / "SET SESSION AUTHORIZATION" is refused: a prepared branch can only be finished by the role that prepared it'
  }
  // A quoted name is blanked by the lexer, and would slip past every rule here (found by hostile testing:
  // SET "search_path" = … and SET LOCAL "role" = … were taken): the name must be a plain word.
  const named = statement.replace(/^set\s+/, '').replace(/^(?:local|session)\b\s*/, '')
  if (!/^[a-z_]/.test(named)) return 'SET with a quoted (or no) setting name is refused: write the setting\'s name unquoted'
  const name = second === 'local' || second === 'session' ? third : second
  if (name === undefined) return null
  if (/transaction|characteristics|autocommit|xact/.test(name)) {
    return `"SET ${name.toUpperCase()}" changes transaction characteristics, which Arbiter owns: set them on the resource's role or database instead`
  }
  if (second !== 'local') {
    return `a session-level "SET ${name}" would outlive this transaction on the TM's pooled session: use "SET LOCAL ${name} …"`
  }
  return null
}

function mysqlRefusal(words: readonly string[], statement: string): string | null {
  const [first, second] = words
  if (first === undefined) return null
  if (MYSQL_ALLOWED.has(first)) return null
  switch (first) {
    case 'release':
      return second === 'savepoint' ? null : mysqlNotAccepted(words)
    case 'rollback':
      return isRollbackToSavepoint(words) ? null : `${quoted(words, 2)} ${CONTROL}`
    case 'create':
    case 'drop':
      // Temporary tables too: one outlives the branch on the TM's pooled session and can hide a real table.
      return `${quoted(words, 2)} is refused on a MySQL/MariaDB branch: DDL commits implicitly, and a temporary table outlives the branch`
    case 'set':
      return mysqlSetRefusal(statement)
    case 'commit':
    case 'begin':
    case 'start':
    case 'xa':
    case 'lock':
    case 'unlock':
      return `${quoted(words, 2)} ${CONTROL}`
    case 'call':
      return '"CALL" is refused on a MySQL/MariaDB branch: a stored procedure may run XA END or XA COMMIT and end the branch outside the decision'
    case 'prepare':
    case 'execute':
    case 'deallocate':
      return `${quoted(words, 1)} (SQL-level prepared statements, EXECUTE IMMEDIATE) is refused: it runs text the TM cannot check`
    default:
      return mysqlNotAccepted(words)
  }
}

function mysqlNotAccepted(words: readonly string[]): string {
  return (
    `${quoted(words, 1)} is not accepted on a MySQL/MariaDB branch: allowed are SELECT, INSERT, UPDATE, DELETE, REPLACE, WITH, VALUES, TABLE, ` +
    'SHOW, DESCRIBE, EXPLAIN, DO, SAVEPOINT, RELEASE SAVEPOINT, ROLLBACK TO SAVEPOINT, SET @user_variable'
  )
}

/**
 * MySQL SET: user variables only (SET @a = …, @b := …). Anything else sets
 * session state that outlives the branch on the TM's pooled session, or
 * transaction state that is the TM's (autocommit, SET TRANSACTION), or wraps
 * another statement (SET STATEMENT … FOR).
 */
function mysqlSetRefusal(statement: string): string | null {
  const targets = splitTopLevel(statement.replace(/^set\b/, ''))
  for (const target of targets) {
    const t = target.trim()
    if (!/^@(?!@)/.test(t)) {
      const name = t.split(/[\s=:]+/)[0] ?? ''
      return `"SET ${name.toUpperCase()}" is refused on a MySQL/MariaDB branch: only user variables (SET @name = …) may be set; session and transaction settings belong to the TM's pooled session`
    }
  }
  return null
}

/** The parts of `text` between commas outside parentheses. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]
    if (c === '(') depth++
    else if (c === ')') depth = Math.max(0, depth - 1)
    else if (c === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts
}
