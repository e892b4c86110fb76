// The node id's claim at a MySQL / MariaDB server (node-id-claim.ts): a named
// GET_LOCK on a connection of its own. Both the lock and XA RECOVER are
// server-wide, so the claim covers exactly the branches this node's recovery
// may presume aborted here, whatever database each was begun in.
import mysql from 'mysql2/promise'
import { classifyMysqlError } from '../errors/classify-mysql.js'
import { claimWithin, heldClaim, instanceLockName, lossSignal, nodeIdLockName, registerPrimary, sharedClaim, type ClaimAttempt, type NodeIdClaim } from '../node-id-claim.js'

export interface MysqlClaimOptions {
  readonly resource: string
  readonly url: string
  readonly nodeId: string
  readonly connectTimeoutMs: number
  readonly commandTimeoutMs: number
}

/**
 * The server frees the lock when the session ends. A TM whose machine
 * vanished leaves a session the server drops only after wait_timeout of
 * silence (eight hours by default): the claim's session lowers it and its
 * heartbeat pings well inside it, so a node restarted elsewhere is refused
 * for a minute at most, not for hours.
 */
const SESSION_IDLE_LIMIT_S = 60

export function claimMysqlNodeId(o: MysqlClaimOptions): Promise<NodeIdClaim> {
  const name = nodeIdLockName(o.nodeId)
  // Held beside the id's lock by the session that holds it: marks the holder as this process's (sharedClaim).
  const mark = instanceLockName(o.nodeId)
  const attempt = async (): Promise<ClaimAttempt> => {
    const loss = lossSignal()
    let conn: mysql.Connection | undefined
    const query = async <T>(sql: string, values: unknown[] = []): Promise<T[]> => {
      const [rows] = await conn!.query({ sql, values, timeout: o.commandTimeoutMs })
      return rows as T[]
    }
    // Closing the socket frees the lock at the server at once; a polite end() would queue behind a hung call.
    const close = async (): Promise<void> => conn?.destroy()
    try {
      conn = await mysql.createConnection({
        uri: o.url.replace(/^mariadb:/, 'mysql:'),
        connectTimeout: o.connectTimeoutMs,
        enableKeepAlive: true,
        keepAliveInitialDelay: 10_000,
      })
      // Registered at once: an error on this idle connection must never crash the TM.
      conn.on('error', (error: Error) => loss.lose(`its session failed: ${error.message}`))
      conn.on('end', () => loss.lose('its session ended'))
      await query(`SET SESSION wait_timeout = ${SESSION_IDLE_LIMIT_S}`)
      // The server's own name for a session, as registerPrimary keys it: the server, then the connection id.
      const server = (await query<{ server: string }>("SELECT CONCAT(@@hostname, ':', @@port, ':', @@server_id) AS server"))[0]?.server ?? ''
      const sessionKey = (id: number | string): string => `mysql|${server}|${String(id)}`
      const got = await query<{ got: number | null }>('SELECT GET_LOCK(?, 0) AS got', [name])
      if (Number(got[0]?.got) === 1) {
        // Only this process's claims take the mark, and only the session holding the id's lock: it is free.
        await query('SELECT GET_LOCK(?, 0)', [mark])
        const held = conn
        // The heartbeat's pings keep the session inside wait_timeout, and prove it alive.
        const claim = heldClaim(loss, () => held.ping(), close)
        registerPrimary(sessionKey(held.threadId), claim)
        return { claim }
      }
      const holderOf = async () => (await query<{ id: number | null; ours: number | null }>('SELECT IS_USED_LOCK(?) AS id, IS_USED_LOCK(?) = IS_USED_LOCK(?) AS ours', [name, name, mark]))[0]
      const holder = await holderOf()
      const id = holder?.id
      if (Number(holder?.ours) === 1 && id !== null && id !== undefined) {
        // Another resource of this TM on the same server holds it; checked on this connection (its checks keep it alive).
        return sharedClaim(loss, sessionKey(id), async () => Number((await holderOf())?.ours) === 1, close)
      }
      // The PROCESSLIST row shows only with the PROCESS privilege; the connection id is enough to find it.
      const rows = id === null || id === undefined ? [] : await query<{ user: string; host: string; t: number }>('SELECT USER AS user, HOST AS host, TIME AS t FROM information_schema.PROCESSLIST WHERE ID = ?', [id])
      await close()
      const row = rows[0]
      return {
        heldBy: id === null || id === undefined ? 'a session that has just ended' : `MySQL connection id ${id}` + (row ? `, user ${row.user} from ${row.host}, idle ${row.t} s` : ''),
      }
    } catch (error) {
      await close()
      throw classifyMysqlError(error, o.resource, 'claim the node id')
    }
  }
  return claimWithin(o.resource, o.nodeId, attempt)
}
