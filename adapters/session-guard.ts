// The check every managed branch session makes before a step: not released,
// in a state the step allows, and no statement still running on it.
import { AdapterError, type Xid } from './types.js'
import { xidToString } from './xid/xid.js'

export interface SessionCondition<State extends string> {
  readonly resource: string
  readonly xid: Xid
  readonly state: State
  readonly busy: boolean
  readonly released: boolean
}

/** Throws a fatal AdapterError naming `what` when the session cannot take that step now. */
export function ensureSessionReady<State extends string>(session: SessionCondition<State>, allowed: readonly State[], what: string): void {
  if (session.released) throw new AdapterError('fatal', session.resource, `${what}: the session was released`)
  if (!allowed.includes(session.state)) {
    throw new AdapterError('fatal', session.resource, `${what}: branch ${xidToString(session.xid)} is ${session.state}`)
  }
  if (session.busy) throw new AdapterError('fatal', session.resource, `${what}: a statement is still running on the branch`)
}
