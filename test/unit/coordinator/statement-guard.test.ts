import { describe, expect, it } from 'vitest'
import { checkStatement } from '../../../server/coordinator/statement-guard.js'

const check = (sql: string): void => checkStatement(sql, { maxBytes: 1000 })

describe('statement guard', () => {
  it.each([
    'SELECT 1',
    'UPDATE accounts SET balance = balance - $1 WHERE id = $2',
    "INSERT INTO t VALUES ('COMMIT; ROLLBACK')",
    'SELECT 1;',
    'SELECT 1; -- trailing comment',
    'SAVEPOINT a',
    'ROLLBACK TO SAVEPOINT a',
    'rollback to a',
    "SELECT $$COMMIT; BEGIN$$",
    'SELECT "commit" FROM t',
    '/* BEGIN */ SELECT 1',
    'WITH x AS (SELECT 1) SELECT * FROM x',
  ])('allows %s', (sql) => {
    expect(() => check(sql)).not.toThrow()
  })

  it.each([
    ['COMMIT', /would end or escape the branch/],
    ['  commit work', /would end or escape/],
    ['ROLLBACK', /would end or escape/],
    ['END', /would end or escape/],
    ['BEGIN', /would end or escape/],
    ['START TRANSACTION', /would end or escape/],
    ["PREPARE TRANSACTION 'x'", /would end or escape/],
    ["XA COMMIT 'x'", /would end or escape/],
    ['LOCK TABLES t WRITE', /would end or escape/],
    ['SET autocommit = 1', /would end or escape/],
    ['/* hi */ COMMIT', /would end or escape/],
    ['-- x\nCOMMIT', /would end or escape/],
    ['SELECT 1; COMMIT', /several statements/],
    ['UPDATE t SET a = 1; DELETE FROM t', /several statements/],
    ['', /empty/],
    ['   ', /empty/],
  ])('refuses %j', (sql, message) => {
    expect(() => check(sql)).toThrow(message)
  })

  it('refuses a statement over the size limit, naming the limit', () => {
    expect(() => checkStatement('SELECT ' + 'x'.repeat(2000), { maxBytes: 1000 })).toThrow(/limits\.maxStatementBytes/)
    // The same text under a larger limit is judged on its own: remembered verdicts never skip the size check.
    expect(() => checkStatement('SELECT ' + 'x'.repeat(2000), { maxBytes: 10_000 })).not.toThrow()
    expect(() => checkStatement('SELECT ' + 'x'.repeat(2000), { maxBytes: 1000 })).toThrow(/limits\.maxStatementBytes/)
  })

  it('a remembered verdict is the same verdict, also after the memory of texts has started over, and for long texts', () => {
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 1500; i++) {
        expect(() => check(`SELECT ${i}`)).not.toThrow()
        expect(() => check(`SELECT ${i}; COMMIT`)).toThrow(/several statements/)
      }
      const long = `SELECT '${'y'.repeat(5000)}'; COMMIT`
      expect(() => checkStatement(long, { maxBytes: 10_000 })).toThrow(/several statements/)
    }
  })
})
