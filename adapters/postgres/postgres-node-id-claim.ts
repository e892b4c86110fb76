// The node id's claim at a PostgreSQL database (node-id-claim.ts): a
// session-level advisory lock on a connection of its own. Advisory locks,
// like pg_prepared_xacts as recovery reads it, are per database: the claim
// covers exactly the branches this node's recovery may presume aborted here.
import pg from 'pg'
import { classifyPgError } from '../errors/classify-pg.js'
import { claimantLabel, claimWithin, lossSignal, nodeIdLockKey, sharedClaim, type ClaimAttempt, type NodeIdClaim } from '../node-id-claim.js'
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
const SERVER_KEEPALIVES =
  "SELECT set_config('tcp_keepalives_idle', '10', false), set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)"

const HOLDER_QUERY = `
  SELECT l.pid, a.application_name AS app, host(a.client_addr) AS addr, a.backend_start AS since
  FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND l.classid = $1::oid AND l.objid = $2::oid`

interface HolderRow {
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

/**
 * Backend pids of the claim sessions this process holds. pg_stat_activity
 * hides another user's application_name, and one TM's resources on one
 * database may log in as different users: pg_locks shows every holder's pid.
 */
const heldByThisProcess = new Set<number>()

export function claimPostgresNodeId(o: PostgresClaimOptions): Promise<NodeIdClaim> {
  const key = nodeIdLockKey(o.nodeId)
  const label = claimantLabel(o.nodeId).slice(0, 63)
  const attempt = async (): Promise<ClaimAttempt> => {
    const client = new pg.Client({
      connectionString: o.url,
      connectionTimeoutMillis: o.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
      query_timeout: o.commandTimeoutMs,
      application_name: label,
    })
    const loss = lossSignal()
    // Registered before connect: an error on this idle session must never crash the TM.
    client.on('error', (error: Error) => loss.lose(`its session failed: ${error.message}`))
    client.on('end', () => loss.lose('its session ended'))
    try {
      await client.connect()
      await client.query(SERVER_KEEPALIVES)
      const got = await client.query<{ got: boolean }>({ text: 'SELECT pg_try_advisory_lock($1, $2) AS got', values: [ARBITER_FORMAT_ID, key] })
      if (got.rows[0]?.got === true) {
        const pid = (client as unknown as { processID?: number | null }).processID
        if (typeof pid === 'number') {
          heldByThisProcess.add(pid)
          void loss.lost.then(() => heldByThisProcess.delete(pid))
        }
        return {
          claim: {
            lost: loss.lost,
            release: async () => {
              loss.lose('released')
              await client.end().catch(() => undefined)
            },
          },
        }
      }
      const holderOf = async (): Promise<HolderRow | undefined> =>
        (await client.query<HolderRow>({ text: HOLDER_QUERY, values: [String(ARBITER_FORMAT_ID), String(key)] })).rows[0]
      const ours = (row: HolderRow | undefined): boolean => row !== undefined && (row.app === label || heldByThisProcess.has(row.pid))
      const holder = await holderOf()
      if (ours(holder)) {
        // Another resource of this TM on the same database holds it (node-id-claim.ts, CLAIM_INSTANCE).
        // Checked on this session (a check on a session that has ended fails, and the claim is lost with it).
        return { claim: sharedClaim(async () => ours(await holderOf()), () => client.end()) }
      }
      await client.end().catch(() => undefined)
      return { heldBy: describe(holder) }
    } catch (error) {
      await client.end().catch(() => undefined)
      throw classifyPgError(error, o.resource, 'claim the node id')
    }
  }
  return claimWithin(o.resource, o.nodeId, attempt)
}
