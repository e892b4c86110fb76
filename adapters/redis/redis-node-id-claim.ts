// The node id's claim at a Redis resource (node-id-claim.ts). Redis has no
// lock tied to a session, so the claim is a key under the resource's prefix
// (where its prepared records are, so it covers exactly what this node's
// recovery may presume aborted here) naming the CLIENT ID of a connection of
// its own, named after the node id, with a lease its holder renews. It is
// held while that connection is connected and the lease runs: a claimant that
// finds the key naming a connection that is gone (a crashed node), or no key
// (a lease that lapsed), takes it, by compare-and-set so only one can.
import { Redis } from 'ioredis'
import { classifyRedisError } from '../errors/classify-redis.js'
import { claimWithin, heldClaim, HEARTBEAT_TIMEOUT_MS, instanceLockName, lossSignal, nodeIdLockName, registerPrimary, sharedClaim, type ClaimAttempt, type NodeIdClaim } from '../node-id-claim.js'

export interface RedisClaimOptions {
  readonly resource: string
  readonly url: string
  readonly keyPrefix: string
  readonly nodeId: string
  readonly connectTimeoutMs: number
  readonly commandTimeoutMs: number
}

/**
 * The key's lease: a holder renews it every HEARTBEAT_MS; a key not renewed
 * for this long (its holder's host vanished, and Redis may keep the dead
 * connection listed for minutes) lapses, and the id is free. A holder that
 * cannot renew knows it lost the claim well before (node-id-claim.ts).
 */
const LEASE_MS = 20_000

/** Sets KEYS[1] to ARGV[2] for ARGV[3] ms when it holds ARGV[1] ('' for none); 1 when set. */
const TAKE_SCRIPT = `
local now = redis.call('GET', KEYS[1]) or ''
if now ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
return 1`

/** Renews KEYS[1]'s lease for ARGV[2] ms while it holds ARGV[1]; 1 when renewed. */
const RENEW_SCRIPT = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`

/** Deletes KEYS[1] when it still holds ARGV[1]. */
const GIVE_BACK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`

/** The CLIENT LIST line's fields (names and values hold no spaces: Redis refuses such client names). */
function fieldsOf(line: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const part of line.trim().split(' ')) {
    const eq = part.indexOf('=')
    if (eq > 0) fields.set(part.slice(0, eq), part.slice(eq + 1))
  }
  return fields
}

export function claimRedisNodeId(o: RedisClaimOptions): Promise<NodeIdClaim> {
  // The claim's connection carries the id and this process's mark: any claimant's name starts with `${nodeIdLockName}:`.
  const name = instanceLockName(o.nodeId)
  const claimantPrefix = `${nodeIdLockName(o.nodeId)}:`
  const key = `${o.keyPrefix}node:${o.nodeId}`
  const attempt = async (): Promise<ClaimAttempt> => {
    const loss = lossSignal()
    const redis = new Redis(o.url, {
      lazyConnect: true,
      connectionName: name,
      connectTimeout: o.connectTimeoutMs,
      commandTimeout: Math.min(o.commandTimeoutMs, HEARTBEAT_TIMEOUT_MS),
      // One connection for the claim's life: a reconnect would be another client id, so the claim is lost instead.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    })
    redis.on('error', (error: Error) => loss.lose(`its connection failed: ${error.message}`))
    redis.on('close', () => loss.lose('its connection closed'))
    const close = async (): Promise<void> => redis.disconnect()
    const nameOf = async (id: string): Promise<Map<string, string> | undefined> => {
      const line = String(await redis.call('CLIENT', 'LIST', 'ID', id)).split('\n').find((l) => l.trim() !== '')
      return line === undefined ? undefined : fieldsOf(line)
    }
    try {
      await redis.connect()
      const me = String(await redis.call('CLIENT', 'ID'))
      // The server's own name for a connection, as registerPrimary keys it: its run id (one per server run), then the client id.
      const runId = /run_id:(\w+)/.exec(String(await redis.info('server')))?.[1] ?? ''
      const sessionKey = (id: string): string => `redis|${runId}|${id}`
      for (;;) {
        const holder = (await redis.get(key)) ?? ''
        if (holder !== '' && holder !== me) {
          // Held while its lease runs and the connection it names is still there, carrying a claimant's name.
          const fields = await nameOf(holder)
          if (fields?.get('name') === name) {
            // Another resource of this TM on the same server and prefix holds it: shared, checked on this connection.
            return sharedClaim(loss, sessionKey(holder), async () => (await redis.get(key)) === holder && (await nameOf(holder))?.get('name') === name, close)
          }
          if (fields?.get('name')?.startsWith(claimantPrefix) === true) {
            await close()
            return { heldBy: `Redis client id ${holder} from ${fields.get('addr') ?? '?'}, connected ${fields.get('age') ?? '?'} s` }
          }
        }
        if (Number(await redis.eval(TAKE_SCRIPT, 1, key, holder, me, String(LEASE_MS))) === 1) break
        // Another node took it between the read and the set: look again.
      }
      const claim = heldClaim(
        loss,
        async () => {
          if (Number(await redis.eval(RENEW_SCRIPT, 1, key, me, String(LEASE_MS))) !== 1) throw new Error(`its key ${key} no longer names this connection`)
        },
        async () => {
          await redis.eval(GIVE_BACK_SCRIPT, 1, key, me).catch(() => undefined)
          await close()
        },
      )
      registerPrimary(sessionKey(me), claim)
      return { claim }
    } catch (error) {
      await close()
      throw classifyRedisError(error, o.resource, 'claim the node id')
    }
  }
  return claimWithin(o.resource, o.nodeId, attempt)
}
