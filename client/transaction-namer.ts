// Naming transactions on the client (transaction_manager.proto,
// ExecuteRequest.begin): once a Begin has told the client who the TM at the
// other end of its Session stream is (node id, run, clock, default timeout),
// the client names the next transactions itself and Begin rides on their
// first request: one round trip less per transaction. What it learned is
// dropped when the stream is re-opened (it may reach another TM) and when a
// TM refuses to begin a transaction named this way.
import { newGtrid, parseGtrid } from '../adapters/index.js'
import type { BeginRequest } from '../proto/gen/arbiter/v1/BeginRequest.js'
import type { BeginResponse__Output } from '../proto/gen/arbiter/v1/BeginResponse.js'

/** The slowest Begin round trip the client still trusts for the TM's clock. */
const MAX_LEARNING_ROUND_TRIP_MS = 500

interface KnownTm {
  readonly nodeId: string
  readonly instance: string
  /** TM clock minus this clock, estimated from one Begin's round trip. */
  readonly clockOffsetMs: number
  readonly defaultTimeoutMs: number
}

/** A transaction the client named: its gtrid, deadline and the begin to send with its first request. */
export interface NamedTransaction {
  readonly gtrid: string
  readonly deadline: Date
  readonly begin: BeginRequest
}

/** @internal */
export class TransactionNamer {
  private known: KnownTm | undefined

  /** Learns the TM from a Begin's answer (sent at `sentAt`, received at `receivedAt`, both this clock). */
  learn(response: BeginResponse__Output, sentAt: number, receivedAt: number): void {
    // The clock estimate is off by up to half the round trip: a slow one
    // could put names past the TM's 1 s tolerance. Learn from quick ones only.
    if (receivedAt - sentAt > MAX_LEARNING_ROUND_TRIP_MS) return
    const serverTime = Number(response.serverTimeUnixMs)
    // A TM that predates client-named transactions sends none of these.
    if (!response.tmInstance || !Number.isFinite(serverTime) || serverTime <= 0 || response.defaultTimeoutMs <= 0) return
    let nodeId: string
    try {
      nodeId = parseGtrid(response.gtrid).nodeId
    } catch {
      return
    }
    // The server read its clock about halfway through the round trip.
    const clockOffsetMs = serverTime - (sentAt + receivedAt) / 2
    this.known = { nodeId, instance: response.tmInstance, clockOffsetMs, defaultTimeoutMs: response.defaultTimeoutMs }
  }

  forget(): void {
    this.known = undefined
  }

  /** A new transaction named for the known TM, or undefined while none is known (then call Begin). */
  name(timeoutMs: number | undefined, labels: Record<string, string>): NamedTransaction | undefined {
    const tm = this.known
    if (!tm) return undefined
    const now = Math.round(Date.now() + tm.clockOffsetMs)
    return {
      gtrid: newGtrid(tm.nodeId, now),
      // The TM counts from the ULID's time, which is `now` or a hair later.
      deadline: new Date(now + (timeoutMs || tm.defaultTimeoutMs)),
      begin: { timeoutMs: timeoutMs ?? 0, labels, tmInstance: tm.instance },
    }
  }
}
