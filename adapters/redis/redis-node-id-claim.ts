// The node id's claim at a Redis resource (node-id-claim.ts). Redis has no
// lock tied to a session, so the claim is a key under the resource's prefix
// (where its prepared records are, so it covers exactly what this node's
// recovery may presume aborted here) naming the CLIENT ID of a connection of
// its own, named after the node id. A claim is held while that connection is
// connected: one that finds the key naming a connection that is gone (a
// crashed node) takes it over, by compare-and-set so only one can.
import { Redis } from 'ioredis'
import { classifyRedisError } from '../errors/classify-redis.js'
import { claimWithin, instanceLockName, lossSignal, nodeIdLockName, sharedClaim, type ClaimAttempt, type NodeIdClaim } from '../node-id-claim.js'

export interface RedisClaimOptions {
  readonly resource: string
  readonly url: string
  readonly keyPrefix: string
  readonly nodeId: string
  readonly connectTimeoutMs: number
  readonly commandTimeoutMs: number
}

/** Sets KEYS[1] to ARGV[2] when it holds ARGV[1] ('' for none); 1 when set. */
const TAKE_SCRIPT = `
local now = redis.call('GET', KEYS[1]) or ''
if now ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
return 1`

/** Deletes KEYS[1] when it still holds ARGV[1]. */
const GIVE_BACK_SCRIPT = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1`

/** How often a held claim checks its key still names its connection. */
const CHECK_EVERY_MS = 5_000

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
      commandTimeout: o.commandTimeoutMs,
      // One connection for the claim's life: a reconnect would be another client id, so the claim is lost instead.
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
      enableOfflineQueue: false,
    })
    redis.on('error', (error: Error) => loss.lose(`its connection failed: ${error.message}`))
    redis.on('close', () => loss.lose('its connection closed'))
    try {
      await redis.connect()
      const me = String(await redis.call('CLIENT', 'ID'))
      for (;;) {
        const holder = (await redis.get(key)) ?? ''
        if (holder !== '' && holder !== me) {
          // Held while the connection it names is still there and still carries the claim's name.
          const nameOf = async (id: string) => {
            const line = String(await redis.call('CLIENT', 'LIST', 'ID', id)).split('\n').find((l) => l.trim() !== '')
            return line === undefined ? undefined : fieldsOf(line)
          }
          const fields = await nameOf(holder)
          if (fields?.get('name') === name) {
            // Another resource of this TM on the same server and prefix holds it: shared, checked on this connection.
            return { claim: sharedClaim(async () => (await redis.get(key)) === holder && (await nameOf(holder))?.get('name') === name, async () => redis.disconnect()) }
          }
          if (fields?.get('name')?.startsWith(claimantPrefix) === true) {
            redis.disconnect()
            return { heldBy: `Redis client id ${holder} from ${fields.get('addr') ?? '?'}, connected ${fields.get('age') ?? '?'} s` }
          }
        }
        if (holder === me || Number(await redis.eval(TAKE_SCRIPT, 1, key, holder, me)) === 1) break
        // Another node took it between the read and the set: look again.
      }
      const check = setInterval(() => {
        redis.get(key).then(
          (now) => {
            if (now !== me) loss.lose(`its key now names ${now === null ? 'no connection' : `Redis client id ${now}`}`)
          },
          (error: unknown) => loss.lose(`its connection stopped answering: ${String(error)}`),
        )
      }, CHECK_EVERY_MS).unref()
      void loss.lost.then(() => clearInterval(check))
      return {
        claim: {
          lost: loss.lost,
          release: async () => {
            loss.lose('released')
            await redis.eval(GIVE_BACK_SCRIPT, 1, key, me).catch(() => undefined)
            redis.disconnect()
          },
        },
      }
    } catch (error) {
      redis.disconnect()
      throw classifyRedisError(error, o.resource, 'claim the node id')
    }
  }
  return claimWithin(o.resource, o.nodeId, attempt)
}
