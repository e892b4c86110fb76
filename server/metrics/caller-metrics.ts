// Per-caller series (issue #21, item 13), read at scrape time from the
// coordinator's CallerLimits: nothing on the Begin path but its own counts.
// Present only with auth.tokens configured; `caller` is a token's name, so
// the label's values are bounded by the config.
import { Counter, Gauge, type Registry } from 'prom-client'
import type { CallerLimits } from '../coordinator/caller-limits.js'

export function registerCallerMetrics(registry: Registry, limits: CallerLimits): void {
  const registers = [registry]
  new Gauge({
    name: 'arbiter_caller_transactions_active',
    help: "A caller's transactions in progress (ACTIVE, PREPARING, COMMITTING)",
    labelNames: ['caller'],
    registers,
    collect() {
      for (const c of limits.snapshot()) this.labels(c.caller).set(c.active)
    },
  })
  new Counter({
    name: 'arbiter_caller_begins_total',
    help: "A caller's Begins admitted (Begin, Run, and transactions a client named itself)",
    labelNames: ['caller'],
    registers,
    collect() {
      this.reset()
      for (const c of limits.snapshot()) this.labels(c.caller).inc(c.begun)
    },
  })
  new Counter({
    name: 'arbiter_caller_refused_total',
    help: "A caller's Begins refused with RESOURCE_EXHAUSTED, by the limit: active (its own in-progress limit), rate (its Begins per second), node (limits.maxActiveTransactions)",
    labelNames: ['caller', 'limit'],
    registers,
    collect() {
      this.reset()
      for (const c of limits.snapshot()) {
        for (const [limit, n] of Object.entries(c.refused)) this.labels(c.caller, limit).inc(n)
      }
    },
  })
}
