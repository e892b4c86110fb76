import { describe, expect, it } from 'vitest'
import { classifyMysqlError } from '../../../adapters/errors/classify-mysql.js'
import { classifyPgError } from '../../../adapters/errors/classify-pg.js'
import { classifyRedisError } from '../../../adapters/errors/classify-redis.js'
import { AdapterError } from '../../../adapters/types.js'
import type { ErrorClass } from '../../../adapters/types.js'

/** A node-postgres DatabaseError look-alike. */
function pgErr(code: string, message = 'boom'): Error {
  return Object.assign(new Error(message), { code, severity: 'ERROR' })
}
function sysErr(code: string, message = `connect ${code}`): Error {
  return Object.assign(new Error(message), { code, errno: -1, syscall: 'connect' })
}
function myErr(errno: number, sqlState: string, message = 'boom', fatal = false): Error {
  return Object.assign(new Error(message), { errno, sqlState, code: 'ER_X', fatal })
}
function replyErr(message: string): Error {
  const e = new Error(message)
  e.name = 'ReplyError'
  return e
}

describe('classifyPgError', () => {
  const table: [unknown, ErrorClass, string?][] = [
    [pgErr('40001'), 'vote-no', '40001'],
    [pgErr('40P01'), 'vote-no', '40P01'],
    [pgErr('55P03'), 'vote-no', '55P03'],
    [pgErr('23505'), 'vote-no', '23505'],
    [pgErr('23503'), 'vote-no'],
    [pgErr('25P02'), 'vote-no'],
    [pgErr('42704'), 'not-found', '42704'],
    [pgErr('08006'), 'retryable'],
    [pgErr('57P01'), 'retryable'],
    [pgErr('57P02'), 'retryable'],
    [pgErr('57P03'), 'retryable'],
    [pgErr('55000', 'prepared transactions are disabled'), 'fatal', '55000'],
    [pgErr('55000', 'prepared transaction with identifier "x" is busy'), 'retryable'],
    [pgErr('42501'), 'fatal'],
    [pgErr('28P01'), 'fatal'],
    [pgErr('28000'), 'fatal'],
    [pgErr('3D000'), 'fatal'],
    [pgErr('0A000', 'prepared transaction belongs to another database'), 'fatal'],
    [pgErr('0A000', 'cannot PREPARE a transaction that has operated on temporary objects'), 'vote-no'],
    [sysErr('ECONNREFUSED'), 'retryable', 'ECONNREFUSED'],
    [sysErr('ECONNRESET'), 'retryable'],
    [sysErr('ETIMEDOUT'), 'retryable'],
    [sysErr('EPIPE'), 'retryable'],
    [new Error('Connection terminated unexpectedly'), 'retryable'],
    [new Error('Connection terminated due to connection timeout'), 'retryable'],
    [new Error('timeout exceeded when trying to connect'), 'retryable'],
    [new Error('Query read timeout'), 'retryable'],
    [new AggregateError([sysErr('ECONNREFUSED')], 'all failed'), 'retryable'],
    [new Error('wrapped', { cause: pgErr('40001') }), 'vote-no'],
    [new TypeError('a bug'), 'fatal'],
  ]
  it.each(table)('%s → %s', (err, cls, serverCode) => {
    const e = classifyPgError(err, 'pg1', 'ctx')
    expect(e).toBeInstanceOf(AdapterError)
    expect(e.errorClass).toBe(cls)
    expect(e.resource).toBe('pg1')
    expect(e.cause).toBe(err)
    expect(e.message.startsWith('ctx: ')).toBe(true)
    if (serverCode !== undefined) expect(e.serverCode).toBe(serverCode)
  })
  it('passes an AdapterError through', () => {
    const a = new AdapterError('vote-no', 'x', 'm')
    expect(classifyPgError(a, 'y')).toBe(a)
  })
})

describe('classifyMysqlError', () => {
  const table: [unknown, ErrorClass, string?][] = [
    [myErr(1213, '40001'), 'vote-no', '1213'],
    [myErr(1205, 'HY000'), 'vote-no'],
    [myErr(1062, '23000'), 'vote-no'],
    [myErr(1451, '23000'), 'vote-no'],
    [myErr(1452, '23000'), 'vote-no'],
    [myErr(3819, 'HY000'), 'vote-no'],
    [myErr(1399, 'XAE07', 'XAER_RMFAIL: The command cannot be executed when global transaction is in the  ROLLBACK ONLY state'), 'vote-no'],
    [myErr(1399, 'XAE07', 'XAER_RMFAIL: The command cannot be executed when global transaction is in the  PREPARED state'), 'fatal'],
    [myErr(1402, 'XA100'), 'vote-no'],
    [myErr(1613, 'XA106'), 'vote-no'],
    [myErr(1614, 'XA102'), 'vote-no'],
    [myErr(1397, 'XAE04'), 'not-found', '1397'],
    [myErr(2006, 'HY000', 'gone', true), 'retryable'],
    [myErr(2013, 'HY000', 'lost', true), 'retryable'],
    [Object.assign(new Error('Connection lost: The server closed the connection.'), { code: 'PROTOCOL_CONNECTION_LOST', fatal: true }), 'retryable'],
    [Object.assign(sysErr('ECONNREFUSED'), { fatal: true }), 'retryable', 'ECONNREFUSED'],
    [Object.assign(new Error('something fatal'), { fatal: true }), 'retryable'],
    [myErr(1045, '28000'), 'fatal'],
    [myErr(1044, '42000'), 'fatal'],
    [myErr(1142, '42000'), 'fatal'],
    [myErr(1227, '42000'), 'fatal'],
    [myErr(1440, 'XAE08'), 'fatal'],
    [new TypeError('a bug'), 'fatal'],
  ]
  it.each(table)('%s → %s', (err, cls, serverCode) => {
    const e = classifyMysqlError(err, 'my1')
    expect(e.errorClass).toBe(cls)
    expect(e.cause).toBe(err)
    if (serverCode !== undefined) expect(e.serverCode).toBe(serverCode)
  })
})

describe('classifyRedisError', () => {
  const maxRetries = Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })
  const table: [unknown, ErrorClass, string?][] = [
    [maxRetries, 'retryable'],
    [sysErr('ECONNREFUSED'), 'retryable'],
    [new Error('Connection is closed.'), 'retryable'],
    [new Error('Command timed out'), 'retryable'],
    [replyErr('LOADING Redis is loading the dataset in memory'), 'retryable', 'LOADING'],
    [replyErr('BUSY Redis is busy running a script'), 'retryable'],
    [replyErr('READONLY You can\'t write against a read only replica.'), 'retryable'],
    [replyErr('NOAUTH Authentication required.'), 'fatal', 'NOAUTH'],
    [replyErr('WRONGPASS invalid username-password pair'), 'fatal'],
    [replyErr('NOPERM this user has no permissions'), 'fatal'],
    [replyErr('WRONGTYPE Operation against a key holding the wrong kind of value'), 'vote-no', 'WRONGTYPE'],
    [replyErr('ERR max number of clients reached'), 'retryable'],
    [new TypeError('a bug'), 'fatal'],
  ]
  it.each(table)('%s → %s', (err, cls, serverCode) => {
    const e = classifyRedisError(err, 'r1')
    expect(e.errorClass).toBe(cls)
    if (serverCode !== undefined) expect(e.serverCode).toBe(serverCode)
  })

  it('a refused login says where the password goes (found by a newcomer: the bare NOAUTH said nothing of the url)', () => {
    expect(classifyRedisError(replyErr('NOAUTH HELLO must be called with the client already authenticated'), 'cache').message).toMatch(
      /NOAUTH .*\(the server needs a password: give it in the resource url, redis:\/\/:PASSWORD@host:port/,
    )
    expect(classifyRedisError(replyErr('WRONGPASS invalid username-password pair'), 'cache').message).toMatch(/user or password is not the server's/)
  })
})
