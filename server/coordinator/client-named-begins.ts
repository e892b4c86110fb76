// Transactions a client names itself (ExecuteRequest.begin): which of them
// this TM may begin, and which gtrids are closed to such a begin for good.
//
// Safety: a prepared branch that recovery or an operator rolled back unseen
// must never belong to a transaction begun afterwards, or its commit would
// find the branch gone and take that for done. So a gtrid begins only under
// this run of the TM (tm_instance: a new run does not know what the old one
// presumed aborted), never once closed (presumed aborted, or already run and
// forgotten), never ahead of the TM's clock and never after its deadline.
import { randomUUID } from 'node:crypto'
import { gtridNamedAt, parseGtrid } from '../../adapters/xid/xid.js'
import { TmError } from '../../proto/errors.js'

/** How far ahead of the TM's clock a client-named gtrid's time may be (the client's estimate of that clock is a little off). */
export const CLOCK_TOLERANCE_MS = 1000

export interface NamedBegin {
  /** The ULID's time: the deadline counts from here. */
  readonly namedAt: number
}

export class ClientNamedBegins {
  private current = randomUUID()
  private readonly closed = new Map<string, { until: number; why: string }>()

  constructor(
    private readonly nodeId: string,
    private readonly maxTimeoutMs: number,
  ) {}

  /** Names this run of the TM (BeginResponse.tm_instance). */
  get instance(): string {
    return this.current
  }

  /**
   * Starts a new run as a restart would: every name taken under the old one
   * is refused from now on. For a node that lost its lease: another node may
   * have taken it over and presumed its transactions aborted meanwhile (their
   * prepared branches rolled back, unseen here), and the store's markers of
   * that are swept in time, so the old names must not begin here again.
   */
  newRun(): void {
    this.current = randomUUID()
  }

  /** The gtrid's parts; INVALID_ARGUMENT when it is not an Arbiter gtrid. */
  parse(gtrid: string): { namedAt: number; nodeId: string } {
    try {
      const parsed = parseGtrid(gtrid)
      return { namedAt: parsed.createdAt.getTime(), nodeId: parsed.nodeId }
    } catch (error) {
      throw new TmError('TM_INVALID_ARGUMENT', `malformed gtrid "${String(gtrid).slice(0, 80)}": ${(error as Error).message}`)
    }
  }

  /**
   * Throws the refusal (ABORTED, retryable, beginRefused: nothing was done)
   * unless a transaction this TM does not know may begin as `gtrid` (parts
   * from parse()) now.
   */
  check(
    gtrid: string,
    { namedAt, nodeId }: { namedAt: number; nodeId: string },
    tmInstance: string | undefined,
    timeoutMs: number,
    now: number,
    accepting: boolean,
    /** Why the decision log takes no decision now: a transaction begun could never commit. */
    logRefusal?: string,
  ): NamedBegin {
    // The text is for the person reading the error; clients act on the metadata. "Call Begin instead" was wrong
    // where a Begin is refused too (draining, a log that takes no decision): say what helps in each case.
    const refuse = (why: string, extra: Record<string, string> = {}, hint = 'retry: a new Begin names a fresh transaction'): TmError =>
      new TmError('TM_TX_ABORTED', `transaction ${gtrid} was not begun: ${why}; nothing was done (${hint})`, {
        metadata: { gtrid, retryable: 'true', beginRefused: 'true', ...extra },
      })
    const later = 'retry later, or on another node: this node begins nothing now'
    // Refused rather than UNAVAILABLE: nothing was begun, so the client knows its Commit did nothing.
    if (!accepting) throw refuse('the TM is shutting down (draining)', { draining: 'true' }, later)
    if (logRefusal !== undefined) throw refuse(logRefusal, {}, later)
    if (nodeId !== this.nodeId) throw refuse(`it names TM node "${nodeId}", this is node "${this.nodeId}"`)
    if (tmInstance !== this.instance) throw refuse('it was named under another run of this TM (tm_instance differs: the TM restarted, or lost its lease in the shared store)')
    const closed = this.closed.get(gtrid)
    if (closed) throw refuse(closed.why)
    if (namedAt > now + CLOCK_TOLERANCE_MS) throw refuse(`its time is ${namedAt - now} ms ahead of the TM's clock`)
    if (now > namedAt + timeoutMs) throw refuse(`its deadline passed ${now - namedAt - timeoutMs} ms ago`)
    return { namedAt }
  }

  /** Recovery or an operator rolls back `gtrid`'s prepared branches unseen: closed while any transaction could still begin as it. */
  closePresumedAborted(gtrid: string, now: number): void {
    // Not a gtrid a client could name: closed from now on, as a precaution.
    const namedAt = gtridNamedAt(gtrid) ?? now
    this.closed.set(gtrid, {
      until: Math.max(namedAt, now) + this.maxTimeoutMs + CLOCK_TOLERANCE_MS,
      why: 'its prepared branches were already rolled back unseen, by recovery or an operator (presumed abort)',
    })
  }

  /** A finished transaction is forgotten before `until`, the last moment a begin of it could pass check(). */
  closeForgotten(gtrid: string, until: number): void {
    this.closed.set(gtrid, { until, why: 'it has already run on this TM' })
  }

  /** Drops what check() would refuse anyway now. */
  sweep(now: number): void {
    for (const [gtrid, closed] of this.closed) if (closed.until < now) this.closed.delete(gtrid)
  }
}
