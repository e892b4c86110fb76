// Bearer-token authentication (reliability.md §4). Tokens come from the
// config (`auth.tokens`), each with a name and a role. Tokens are compared
// in constant time: both sides are hashed to 32 bytes and compared with
// crypto.timingSafeEqual, and every configured token is checked (no early
// exit), so neither a token's length nor which entry matched leaks through
// timing. No tokens configured: authentication is off.
import { createHash, timingSafeEqual } from 'node:crypto'
import { ConfigError, type AuthTokenEntry } from '../config.js'
import { tokenSecret } from '../config/sources.js'

export type Role = 'application' | 'admin'

/** Who made a call: the token's name and role. */
export interface Principal {
  readonly name: string
  readonly role: Role
}

interface KnownToken {
  readonly principal: Principal
  readonly digest: Buffer
}

export { MIN_TOKEN_LENGTH } from '../config/sources.js'

function digest(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest()
}

/** The secret of one token entry, wherever the config says it lives; a ConfigError naming the field when it cannot be had. */
export function resolveTokenSecret(entry: AuthTokenEntry, env: NodeJS.ProcessEnv = process.env, index = 0): string {
  const got = tokenSecret(entry, index, env)
  if ('problem' in got) throw ConfigError.of([got.problem], undefined)
  return got.secret
}

export class TokenAuthenticator {
  private readonly tokens: readonly KnownToken[]

  /** Resolves every secret now, so a missing env variable or file stops start-up. */
  constructor(entries: readonly AuthTokenEntry[], env: NodeJS.ProcessEnv = process.env) {
    const seen = new Set<string>()
    this.tokens = entries.map((entry, index) => {
      const secret = resolveTokenSecret(entry, env, index)
      const d = digest(secret)
      const key = d.toString('hex')
      if (seen.has(key)) {
        throw ConfigError.of([{ path: `auth.tokens[${index}]`, expected: 'a secret no other token has', given: `the same secret as an earlier token (not shown)` }], undefined)
      }
      seen.add(key)
      return { principal: Object.freeze({ name: entry.name, role: entry.role }), digest: d }
    })
  }

  /** False when no token is configured: then every call is let through. */
  get enabled(): boolean {
    return this.tokens.length > 0
  }

  /** The principal a presented secret belongs to, or undefined. Constant time in the secret. */
  authenticate(secret: string): Principal | undefined {
    const presented = digest(secret)
    let found: Principal | undefined
    for (const token of this.tokens) {
      if (timingSafeEqual(presented, token.digest) && found === undefined) found = token.principal
    }
    return found
  }
}

/** The secret from an `authorization: Bearer <token>` value; undefined when malformed. */
export function bearerSecret(header: string | undefined): string | undefined {
  if (header === undefined) return undefined
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header)
  return match?.[1]
}

/**
 * Why a call with this `authorization` value (undefined: none arrived) is
 * refused, for its UNAUTHENTICATED status and the log: what is wrong with the
 * header's shape, never the secret. HTTP/2 drops a value that starts or ends
 * with whitespace before grpc-js sees it, so "Bearer <token> " arrives as no
 * header at all and was answered "no metadata" (found by hostile testing).
 */
export function unauthenticatedMessage(header: string | undefined): string {
  if (header === undefined) {
    return 'no "authorization: Bearer <token>" metadata arrived (HTTP/2 drops a value that starts or ends with a space: send exactly "Bearer <token>")'
  }
  if (!/^Bearer(?:[ ]|$)/i.test(header)) return 'the authorization metadata is not "Bearer <token>" (another scheme, or no "Bearer " in front)'
  const words = header.trim().split(/\s+/).length - 1
  if (words === 0) return 'the authorization metadata holds no token after "Bearer"'
  if (words > 1) return `the authorization metadata holds ${words} words after "Bearer", not one token (a token has no spaces)`
  return 'unknown bearer token'
}

/** Which role a method needs: undefined for the ones open to anyone (health, reflection). */
export function requiredRoles(path: string): readonly Role[] | undefined {
  if (path.startsWith('/grpc.health.v1.') || path.startsWith('/grpc.reflection.')) return undefined
  if (path.startsWith('/arbiter.v1.TransactionManager/')) return ['application', 'admin']
  // The Admin service, and anything unknown: deny by default.
  return ['admin']
}
