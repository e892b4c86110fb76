// While an application's connection holds a local branch, the methods that
// would reset it, log in as another user, hand it back to its pool or end it
// gracefully are refused with an IllegalStateError. Measured on MariaDB
// 10.11.19 with mysql2 3.24: COM_RESET_CONNECTION or COM_CHANGE_USER on a
// session holding a prepared XA branch makes the branch vanish from XA
// RECOVER, the next XA COMMIT on that session answers OK, and the write never
// appears (an InnoDB transaction with thread id 0 lingers); on an active
// branch they roll it back. A pool's release() hands a session that is still
// inside the branch to its next user (a pool with resetOnRelease resets it on
// the way, with the same effect). The pool's own releaseConnection(conn) is
// guarded too. destroy() (mysql2) and release(err) (pg) stay open: they end
// the session, the server rolls back an active branch, and a prepared one is
// finished by the TM.
import { IllegalStateError } from './errors.js'

type Driver = 'postgres' | 'mysql'

/** Per driver: the guarded methods of the connection, and of mysql2's callback connection under a promise one. */
const GUARDED: Record<Driver, readonly string[]> = {
  postgres: ['release', 'end'],
  mysql: ['reset', 'changeUser', 'release', 'end'],
}

type AnyFunction = (...args: unknown[]) => unknown

/** mysql2 callback connections under guard: their pool's releaseConnection refuses them (see guardPoolRelease). */
const guardedMysqlConnections = new WeakMap<object, () => string>()
/** Pools whose releaseConnection checks guardedMysqlConnections (patched once, left in place). */
const patchedPools = new WeakSet<object>()

/**
 * mysql2's pool.releaseConnection(conn) puts a connection back without going
 * through the connection's own methods (the promise pool's releaseConnection
 * calls it too). While a connection holds a branch it is refused there as
 * well. A connection that died is removed from its pool first (_pool null):
 * that still goes through.
 */
function guardPoolRelease(inner: object): void {
  const pool = (inner as { _pool?: unknown })._pool
  if (typeof pool !== 'object' || pool === null || patchedPools.has(pool)) return
  const original = (pool as { releaseConnection?: unknown }).releaseConnection
  if (typeof original !== 'function') return
  patchedPools.add(pool)
  Object.defineProperty(pool, 'releaseConnection', {
    configurable: true,
    writable: true,
    enumerable: false,
    value: function (this: unknown, connection: unknown, ...rest: unknown[]): unknown {
      const describe = typeof connection === 'object' && connection !== null ? guardedMysqlConnections.get(connection) : undefined
      if (describe !== undefined && (connection as { _pool?: unknown })._pool) {
        throw new IllegalStateError(`pool.releaseConnection() is refused while this connection holds ${describe()}: it would hand the branch to the pool's next user. Release it after transaction() settles`)
      }
      return (original as AnyFunction).call(this, connection, ...rest)
    },
  })
}

/**
 * Installs the guard on `conn` (and on mysql2's callback connection under
 * it). Returns the function that removes it, restoring the methods exactly.
 */
export function guardEnlistedConnection(conn: object, driver: Driver, describe: () => string): () => void {
  const targets: object[] = [conn]
  const inner = (conn as { connection?: unknown }).connection
  if (driver === 'mysql' && typeof inner === 'object' && inner !== null) {
    targets.push(inner)
    guardedMysqlConnections.set(inner, describe)
    guardPoolRelease(inner)
  }
  const restore: (() => void)[] = []
  for (const target of targets) {
    for (const method of GUARDED[driver]) {
      const original = (target as Record<string, unknown>)[method]
      if (typeof original !== 'function') continue
      const own = Object.getOwnPropertyDescriptor(target, method)
      const guard = function (this: unknown, ...args: unknown[]): unknown {
        // pg: release(err) destroys the client instead of pooling it; that is allowed.
        if (driver === 'postgres' && method === 'release' && args[0]) return (original as AnyFunction).apply(this, args)
        const error = new IllegalStateError(
          `${method}() is refused while this connection holds ${describe()}: ` +
            (method === 'reset' || method === 'changeUser'
              ? 'on MariaDB it loses a prepared branch while XA COMMIT still answers OK. '
              : 'the branch stays on the connection until the transaction ends. ') +
            `Call it after transaction() settles, or ${driver === 'mysql' ? 'destroy()' : 'release(err)'} to abandon the branch`,
        )
        // Callback style (mysql2's callback connection, pg's end(cb)): a pool that resets on release then destroys the connection.
        const callback = args[args.length - 1]
        if (typeof callback === 'function') {
          process.nextTick(() => (callback as AnyFunction)(error))
          return undefined
        }
        if (method === 'release') throw error
        return Promise.reject(error)
      }
      Object.defineProperty(target, method, { value: guard, configurable: true, writable: true, enumerable: false })
      restore.push(() => {
        if (own) Object.defineProperty(target, method, own)
        else delete (target as Record<string, unknown>)[method]
      })
    }
  }
  let removed = false
  return () => {
    if (removed) return
    removed = true
    for (const undo of restore) undo()
    if (driver === 'mysql' && typeof inner === 'object' && inner !== null) guardedMysqlConnections.delete(inner)
  }
}
