// Splits a statement into code and what the server skips (comments, quoted
// strings and identifiers), per dialect, the way the server's own lexer does.
// The statement guard judges the code; where a lexer that is off by one
// character could hide a keyword, the two dialects differ and are both spelled
// out here, verified on PostgreSQL 15 and MariaDB 10.11:
//
// - PostgreSQL: `--` comments end at \n or \r; `/* … */` comments nest;
//   `'…'` strings take backslash escapes only as E'…' (or with
//   standard_conforming_strings off); `$tag$…$tag$` dollar quotes; `#` is an
//   operator, not a comment.
// - MySQL/MariaDB: `#` and `-- ` comments end at \n only (a \r does not end
//   them: "#x\rSELECT 1\nXA END …" runs XA END); `--` starts a comment only
//   when a space or control character follows; `/* … */` does not nest (it
//   ends at the first `*/`); `/*! … */` and `/*M! … */` are code, not
//   comments; `'…'` and `"…"` strings take backslash escapes unless the
//   session's sql_mode has NO_BACKSLASH_ESCAPES; whitespace is ASCII only.
//
// Where the server's reading depends on a session setting (backslashes), the
// guard lexes both ways and refuses when either reading refuses.

export type SqlDialect = 'postgres' | 'mysql'

export interface LexOptions {
  readonly dialect: SqlDialect
  /** Backslash escapes in plain '…' strings (MySQL default; PostgreSQL only with standard_conforming_strings off). */
  readonly backslashEscapes: boolean
}

export interface LexedStatement {
  /** The statement with every comment, string and quoted identifier replaced by one space. */
  readonly code: string
  /** What runs to the end of the text without being closed, if anything. */
  readonly unterminated?: 'comment' | 'quote'
}

const IDENT_CHAR = /[A-Za-z0-9_$\u0080-\uffff]/
const DOLLAR_TAG = /^\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/

export function lexSql(sql: string, options: LexOptions): LexedStatement {
  const mysql = options.dialect === 'mysql'
  let code = ''
  let i = 0
  while (i < sql.length) {
    const c = sql[i]!
    const next = sql[i + 1]
    let end: number | undefined
    if (c === '-' && next === '-' && (!mysql || isMysqlCommentDashFollower(sql[i + 2]))) {
      end = lineCommentEnd(sql, i + 2, mysql)
    } else if (c === '#' && mysql) {
      end = lineCommentEnd(sql, i + 1, true)
    } else if (c === '/' && next === '*') {
      end = mysql ? indexAfter(sql, '*/', i + 2) : nestedCommentEnd(sql, i + 2)
      if (end === -1) return { code, unterminated: 'comment' }
    } else if (c === "'" || c === '"' || c === '`') {
      // PostgreSQL: "…" is an identifier (no backslashes); E'…' always takes them.
      const eString = !mysql && c === "'" && /[eE]/.test(sql[i - 1] ?? '') && !IDENT_CHAR.test(sql[i - 2] ?? ' ')
      const backslashes = c !== '`' && (mysql ? options.backslashEscapes : c === "'" && (eString || options.backslashEscapes))
      end = quotedEnd(sql, c, i + 1, backslashes)
      if (end === -1) return { code, unterminated: 'quote' }
    } else if (c === '$' && !mysql && !IDENT_CHAR.test(sql[i - 1] ?? ' ')) {
      const tag = DOLLAR_TAG.exec(sql.slice(i, i + 200))?.[0]
      if (tag !== undefined) {
        end = indexAfter(sql, tag, i + tag.length)
        if (end === -1) return { code, unterminated: 'quote' }
      }
    }
    if (end === undefined) {
      code += c
      i += 1
    } else {
      code += ' '
      i = end
    }
  }
  return { code }
}

/** MySQL: `--` opens a comment only when followed by whitespace or a control character (or the end). */
function isMysqlCommentDashFollower(c: string | undefined): boolean {
  return c === undefined || c.charCodeAt(0) <= 0x20
}

function lineCommentEnd(sql: string, from: number, mysql: boolean): number {
  for (let i = from; i < sql.length; i++) {
    const c = sql[i]
    if (c === '\n' || (!mysql && c === '\r')) return i + 1
  }
  return sql.length
}

function indexAfter(sql: string, terminator: string, from: number): number {
  const at = sql.indexOf(terminator, from)
  return at === -1 ? -1 : at + terminator.length
}

/** PostgreSQL block comments nest: `/* a /* b *\/ c *\/` is one comment. */
function nestedCommentEnd(sql: string, from: number): number {
  let depth = 1
  let i = from
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++
      i += 2
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--
      i += 2
      if (depth === 0) return i
    } else {
      i++
    }
  }
  return -1
}

/** The index after the closing quote; a doubled quote (and, if enabled, a backslash) escapes it. */
function quotedEnd(sql: string, quote: string, from: number, backslashes: boolean): number {
  let i = from
  while (i < sql.length) {
    const c = sql[i]
    if (backslashes && c === '\\') {
      i += 2
      continue
    }
    if (c === quote) {
      if (sql[i + 1] === quote) {
        i += 2
        continue
      }
      return i + 1
    }
    i++
  }
  return -1
}
