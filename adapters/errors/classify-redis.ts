// Redis (ioredis) error classification by the reply's error prefix
// (ERR, WRONGTYPE, LOADING, …) and by ioredis' connection errors.
import { AdapterError } from '../types.js'
import type { ErrorClass } from '../types.js'
import { adapterError, causeChain, messageOf, networkCode, prop, withContext } from './error-chain.js'

const PREFIX_CLASS: Record<string, ErrorClass> = {
  LOADING: 'retryable',
  BUSY: 'retryable',
  TRYAGAIN: 'retryable',
  CLUSTERDOWN: 'retryable',
  MASTERDOWN: 'retryable',
  READONLY: 'retryable', // a failover turned our server into a replica
  MISCONF: 'retryable', // persistence is failing: writes refused until fixed
  OOM: 'retryable',
  NOAUTH: 'fatal',
  WRONGPASS: 'fatal',
  NOPERM: 'fatal',
  NOSCRIPT: 'retryable',
  WRONGTYPE: 'vote-no',
  EXECABORT: 'vote-no',
  ERR: 'vote-no',
}

/** What to do about a refused login, by the reply's prefix (found by a newcomer: the bare NOAUTH said nothing of the url). */
const AUTH_HINT: Record<string, string> = {
  NOAUTH: ' (the server needs a password: give it in the resource url, redis://:PASSWORD@host:port, or redis://USER:PASSWORD@… for an ACL user)',
  WRONGPASS: " (the resource url's user or password is not the server's)",
  NOPERM: " (the url's Redis user lacks a permission Arbiter needs: the server's ACL LOG names it)",
}

/** Classifies anything ioredis threw. An AdapterError passes through. */
export function classifyRedisError(err: unknown, resource: string, context?: string): AdapterError {
  if (err instanceof AdapterError) return err
  for (const e of causeChain(err)) {
    const name = prop(e, 'name')
    if (name === 'MaxRetriesPerRequestError') {
      return adapterError('retryable', resource, withContext(context, `server unreachable: ${messageOf(e)}`), err)
    }
    if (name === 'ReplyError') {
      const msg = messageOf(e)
      const prefix = /^([A-Z]+)\b/.exec(msg)?.[1] ?? 'ERR'
      let cls: ErrorClass = PREFIX_CLASS[prefix] ?? 'fatal'
      if (prefix === 'ERR' && /max number of clients/i.test(msg)) cls = 'retryable'
      return adapterError(cls, resource, withContext(context, msg + (AUTH_HINT[prefix] ?? '')), err, prefix)
    }
  }
  const net = networkCode(err)
  if (net !== undefined) {
    return adapterError('retryable', resource, withContext(context, `connection failed: ${messageOf(err)}`), err, net)
  }
  const msg = messageOf(err)
  if (/Connection is closed|Command timed out|Stream isn't writeable|connect ETIMEDOUT|enableOfflineQueue/i.test(msg)) {
    return adapterError('retryable', resource, withContext(context, `connection lost: ${msg}`), err)
  }
  return adapterError('fatal', resource, withContext(context, msg), err)
}
