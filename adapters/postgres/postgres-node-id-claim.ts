// The node id's claim at a PostgreSQL database (node-id-claim.ts): a
// session-level advisory lock on a connection of its own. Advisory locks,
// like pg_prepared_xacts as recovery reads it, are per database: the claim
// covers exactly the branches this node's recovery may presume aborted here.
import pg from 'pg'
import { classifyPgError } from '../errors/classify-pg.js'
import { claimantLabel, claimWithin, heldClaim, instanceLockKey, lossSignal, nodeIdLockKey, registerPrimary, sharedClaim, within, type ClaimAttempt, type NodeIdClaim } from '../node-id-claim.js'
import { ARBITER_FORMAT_ID } from '../xid/xid.js'

export interface PostgresClaimOptions {
  readonly resource: string
  readonly url: string
  readonly nodeId: string
  readonly connectTimeoutMs: number
  readonly commandTimeoutMs: number
}

/**
 * The server frees the lock when the session ends. A TM whose machine
 * vanished leaves a session the server only drops when TCP keepalive says so
 * (two hours by the OS's default): these make it about 25 s, so a node
 * restarted elsewhere with the same id is not refused for hours.
 */
const SESSION_SETUP =
  "SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false), " +
  // The server's start time (one per server run): with a pid, the server's own name for a session (registerPrimary).
  'pg_postmaster_start_time()::text AS started'

/** Who holds the id's lock, and whether that session also holds this process's mark ($3): then it is ours. */
const HOLDER_QUERY = `
  SELECT l.pid, a.application_name AS app, host(a.client_addr) AS addr, a.backend_start AS since,
    EXISTS (SELECT 1 FROM pg_locks m WHERE m.locktype = 'advisory' AND m.granted AND m.objsubid = 2 AND m.pid = l.pid
      AND m.database = l.database AND m.classid = $1::oid AND m.objid = $3::oid) AS ours
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = $1::oid AND l.objid = $2::oid`

interface HolderRow {
  readonly ours: boolean
  readonly pid: number
  readonly app: string | null
  readonly addr: string | null
  readonly since: Date | null
}

function describe(row: HolderRow | undefined): string {
  if (row === undefined) return 'a PostgreSQL session that has just ended'
  const parts = [`PostgreSQL session pid ${row.pid}`]
  if (row.app) parts.push(`application "${row.app}"`)
  if (row.addr) parts.push(`from ${row.addr}`)
  if (row.since) parts.push(`connected since ${row.since.toISOString()}`)
  return parts.join(', ')
}

/** Cuts the session's socket: never waits on a server that does not answer. */
function cut(client: pg.Client): void {
  ;(client as unknown as { connection?: { stream?: { destroy?: () => void } } }).connection?.stream?.destroy?.()
}

export function claimPostgresNodeId(o: PostgresClaimOptions): Promise<NodeIdClaim> {
  const key = nodeIdLockKey(o.nodeId)
  const mark = instanceLockKey(o.nodeId)
  const attempt = async (): Promise<ClaimAttempt> => {
    const client = new pg.Client({
      connectionString: o.url,
      connectionTimeoutMillis: o.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: o.commandTimeoutMs,
      application_name: claimantLabel(o.nodeId).slice(0, 63),
    })
    const loss = lossSignal()
    // Registered before connect: an error on this idle session must never crash the TM.
    client.on('error', (error: Error) => loss.lose(`its session failed: ${error.message}`))
    client.on('end', () => loss.lose('its session ended'))
    // Terminates politely when the server answers, else cuts the socket: never waits on a server that is gone.
    const closeOrCut = async (): Promise<void> => {
      await within(client.end(), 1_000, 'ending the session').catch(() => cut(client))
    }
    try {
      await client.connect()
      const server = (await client.query<{ started: string }>(SESSION_SETUP)).rows[0]?.started ?? ''
      const sessionKey = (pid: number | undefined): string => `postgres|${server}|${String(pid)}`
      const got = await client.query<{ got: boolean }>({ text: 'SELECT pg_try_advisory_lock($1, $2) AS got', values: [ARBITER_FORMAT_ID, key] })
      if (got.rows[0]?.got === true) {
        // The mark beside it, on the same session: another resource of this process finds the holder is ours.
        await client.query({ text: 'SELECT pg_try_advisory_lock($1, $2)', values: [ARBITER_FORMAT_ID, mark] })
        const claim = heldClaim(loss, () => client.query('SELECT 1'), closeOrCut)
        registerPrimary(sessionKey((client as unknown as { processID?: number }).processID), claim)
        return { claim }
      }
      const holderOf = async (): Promise<HolderRow | undefined> =>
        (await client.query<HolderRow>({ text: HOLDER_QUERY, values: [String(ARBITER_FORMAT_ID), String(key), String(mark)] })).rows[0]
      const holder = await holderOf()
      if (holder?.ours === true) {
        // Another resource of this TM on the same database holds it: its session holds our mark too (CLAIM_INSTANCE).
        return sharedClaim(loss, sessionKey(holder.pid), async () => (await holderOf())?.ours === true, closeOrCut)
      }
      await closeOrCut()
      return { heldBy: describe(holder) }
    } catch (error) {
      await closeOrCut()
      throw classifyPgError(error, o.resource, 'claim the node id')
    }
  }
  return claimWithin(o.resource, o.nodeId, attempt)
}
