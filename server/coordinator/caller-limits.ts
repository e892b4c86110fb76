// Per-caller limits (issue #21, item 13): one application token could begin
// 10,000 transactions with 300 s timeouts and leave every other caller with
// RESOURCE_EXHAUSTED for five minutes. With auth.tokens configured each
// token is a caller with its own limits:
//   - transactions in progress at once (default: a quarter of
//     limits.maxActiveTransactions, so it takes four callers at their
//     limit to fill the node);
//   - a rate of Begins, as a token bucket (default 1000 per second, bursts
//     of 1000; 0 turns the rate limit off);
//   - a share of each resource's session pool (pool-shares.ts; default half,
//     with two tokens or more: one token alone is the only caller).
// limits.perToken sets the defaults; a token's own `limits` override them.
// Without tokens there is no caller to tell apart: only the node-wide limits
// apply. A refusal is TM_OVERLOADED (RESOURCE_EXHAUSTED, retryable) naming
// the caller and the option that refused it.
import { TmError } from '../../proto/errors.js'
import { LiveCounter } from './transaction.js'

export interface CallerLimitValues {
  readonly maxActiveTransactions: number
  /** Begins per second on average; 0: no rate limit. */
  readonly beginsPerSecond: number
  readonly beginBurst: number
  /** The fraction of each resource's session pool the caller may hold at once (1: no share). */
  readonly poolShare: number
}

/** Each value with the config option it came from, for the refusal's message. */
interface ResolvedLimits {
  readonly values: CallerLimitValues
  readonly options: { readonly [K in keyof CallerLimitValues]: string }
}

export interface CallerLimitsConfig {
  /** limits.maxActiveTransactions (the default per caller is a quarter of it). */
  readonly nodeMaxActiveTransactions: number
  /** limits.perToken */
  readonly perToken: {
    readonly maxActiveTransactions?: number | undefined
    readonly beginsPerSecond: number
    readonly beginBurst: number
    readonly poolShare: number
  }
  /** auth.tokens, in config order: each token's name and its own overrides. */
  readonly tokens: readonly {
    readonly name: string
    readonly limits?: Partial<Record<keyof CallerLimitValues, number | undefined>> | undefined
  }[]
}

export type RefusalLimit = 'active' | 'rate' | 'node'

interface Caller {
  readonly name: string
  readonly limits: ResolvedLimits
  readonly live: LiveCounter
  bucket: number
  refilledAt: number
  begun: number
  readonly refused: Record<RefusalLimit, number>
}

/** What the metrics read at scrape time. */
export interface CallerSnapshot {
  readonly caller: string
  readonly active: number
  readonly begun: number
  readonly refused: Readonly<Record<RefusalLimit, number>>
}

export class CallerLimits {
  private readonly callers = new Map<string, Caller>()

  constructor(
    config: CallerLimitsConfig,
    /** The node's counter: every caller's counts into it too. */
    private readonly nodeLive: LiveCounter,
    private readonly now: () => number = () => performance.now(),
  ) {
    const defaults: ResolvedLimits = {
      values: {
        maxActiveTransactions: config.perToken.maxActiveTransactions ?? Math.max(1, Math.floor(config.nodeMaxActiveTransactions / 4)),
        beginsPerSecond: config.perToken.beginsPerSecond,
        beginBurst: config.perToken.beginBurst,
        // One token is the only caller there is: nobody to share its pools with.
        poolShare: config.tokens.length >= 2 ? config.perToken.poolShare : 1,
      },
      options: {
        maxActiveTransactions: 'limits.perToken.maxActiveTransactions',
        beginsPerSecond: 'limits.perToken.beginsPerSecond',
        beginBurst: 'limits.perToken.beginBurst',
        poolShare: 'limits.perToken.poolShare',
      },
    }
    config.tokens.forEach((token, i) => {
      const own = token.limits ?? {}
      const pick = <K extends keyof CallerLimitValues>(key: K): { value: number; option: string } =>
        own[key] !== undefined ? { value: own[key], option: `auth.tokens[${i}].limits.${key}` } : { value: defaults.values[key], option: defaults.options[key] }
      const active = pick('maxActiveTransactions')
      const rate = pick('beginsPerSecond')
      const burst = pick('beginBurst')
      const share = pick('poolShare')
      this.add(token.name, {
        values: { maxActiveTransactions: active.value, beginsPerSecond: rate.value, beginBurst: burst.value, poolShare: share.value },
        options: { maxActiveTransactions: active.option, beginsPerSecond: rate.option, beginBurst: burst.option, poolShare: share.option },
      })
    })
    this.defaults = defaults
  }

  private readonly defaults: ResolvedLimits

  private add(name: string, limits: ResolvedLimits): Caller {
    const caller: Caller = {
      name,
      limits,
      live: new LiveCounter(this.nodeLive),
      bucket: limits.values.beginBurst,
      refilledAt: this.now(),
      begun: 0,
      refused: { active: 0, rate: 0, node: 0 },
    }
    this.callers.set(name, caller)
    return caller
  }

  /**
   * Admits one Begin of `caller`, or throws TM_OVERLOADED naming the limit.
   * Returns the counter the new transaction counts in (undefined: no caller,
   * auth is off).
   */
  admit(name: string | undefined): LiveCounter | undefined {
    if (name === undefined) return undefined
    const caller = this.callers.get(name) ?? this.add(name, this.defaults)
    const { values, options } = caller.limits
    if (caller.live.value >= values.maxActiveTransactions) {
      caller.refused.active++
      throw new TmError(
        'TM_OVERLOADED',
        `caller "${name}" has ${caller.live.value} transactions in progress, its limit (${options.maxActiveTransactions}): retry once some have finished`,
        { metadata: { caller: name, limit: options.maxActiveTransactions } },
      )
    }
    if (values.beginsPerSecond > 0) {
      const now = this.now()
      caller.bucket = Math.min(values.beginBurst, caller.bucket + ((now - caller.refilledAt) / 1000) * values.beginsPerSecond)
      caller.refilledAt = now
      if (caller.bucket < 1) {
        caller.refused.rate++
        const retryAfterMs = Math.ceil(((1 - caller.bucket) / values.beginsPerSecond) * 1000)
        throw new TmError(
          'TM_OVERLOADED',
          `caller "${name}" begins more than ${values.beginsPerSecond} transactions per second (${options.beginsPerSecond}; ` +
            `bursts of ${values.beginBurst}, ${options.beginBurst}): retry in ${retryAfterMs} ms`,
          { metadata: { caller: name, limit: options.beginsPerSecond, retryAfterMs: String(retryAfterMs) } },
        )
      }
      caller.bucket -= 1
    }
    caller.begun++
    return caller.live
  }

  /** The fraction of each pool `name` may hold, and the option it came from (fraction 1: the whole pool). */
  poolShare(name: string): { fraction: number; option: string } {
    const { values, options } = (this.callers.get(name) ?? this.add(name, this.defaults)).limits
    return { fraction: values.poolShare, option: options.poolShare }
  }

  /** The node-wide limit refused this caller's Begin (counted, for the metrics). */
  refusedByNode(name: string | undefined): void {
    if (name === undefined) return
    ;(this.callers.get(name) ?? this.add(name, this.defaults)).refused.node++
  }

  snapshot(): CallerSnapshot[] {
    return [...this.callers.values()].map((c) => ({ caller: c.name, active: c.live.value, begun: c.begun, refused: { ...c.refused } }))
  }
}
