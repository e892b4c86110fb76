// A Run that names a transaction this TM already knows (RunRequest.gtrid):
// a repeat of that Run (its answer was lost) gets the first outcome and is
// never run twice; anything else that name was used for is refused, never
// answered with an outcome that is not this Run's.
//
// Found by hostile testing: a Run on a name a Begin/Execute/Commit had used
// was told COMMITTED without running (its statements never ran), a second
// Run with other statements on the same name was told the first one's
// outcome and results, and a repeat after a restart whose config had
// changed (a lower statement limit, a renamed resource) was refused as bad
// input — "not committed" — although the first run had committed.
import { createHash, type Hash } from 'node:crypto'
import { TmError } from '../../proto/errors.js'
import type { RunRequest__Output } from '../../proto/gen/arbiter/v1/RunRequest.js'
import type { Transaction } from '../coordinator/transaction.js'
import { toldRolledBack } from '../coordinator/wrong-state.js'

/**
 * What makes two Runs the same Run: their statements and parameters, as
 * decoded (both transports decode with the same loader, fields in the same
 * order). Bytes go to the hash as they are: JSON.stringify spelt each byte
 * of a 1 MiB parameter as a number (about 0.1 s of event loop per MiB).
 */
export function runDigest(statements: RunRequest__Output['statements']): string {
  const hash = createHash('sha1')
  feed(hash, statements)
  return hash.digest('base64')
}

function feed(hash: Hash, value: unknown): void {
  if (value === null || value === undefined) {
    hash.update('~')
  } else if (value instanceof Uint8Array) {
    hash.update(`b${value.length}:`)
    hash.update(value)
  } else if (Array.isArray(value)) {
    hash.update(`[${value.length}`)
    for (const item of value) feed(hash, item)
  } else if (typeof value === 'object') {
    hash.update('{')
    for (const [key, item] of Object.entries(value)) {
      hash.update(`${key}=`)
      feed(hash, item)
    }
    hash.update('}')
  } else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') {
    const text = String(value)
    hash.update(`${typeof value}${text.length}:${text}`)
  } else {
    hash.update(typeof value) // a function or symbol: not in a decoded message
  }
}

/**
 * What a Run naming `known` gets instead of running: 'repeat' (the first
 * Run's outcome, whatever its statements are checked against now),
 * 'adopted' (a transaction a restart or a takeover brought back from the
 * log: how it began is not known here, so it is answered as a repeated
 * Commit would be, without results), or undefined (a transaction begun with
 * Begin and not used since: this Run runs in it). Anything else is refused.
 */
export function repeatOf(known: Transaction, digest: string): 'repeat' | 'adopted' | undefined {
  const gtrid = known.gtrid
  if (known.runOutcome) {
    if (known.runDigest !== undefined && known.runDigest !== digest) {
      throw new TmError(
        'TM_ILLEGAL_STATE',
        `transaction ${gtrid} was already run by a Run with other statements: a repeat must send the same statements, and a new Run a new name. Nothing was run`,
      )
    }
    return 'repeat'
  }
  if (known.adopted) return 'adopted'
  // Rolled back before this Run came (its deadline, a drain, a lost session): ABORTED, as any request in it hears.
  if (known.state === 'ROLLING_BACK' || known.state === 'ROLLED_BACK') throw toldRolledBack(known)
  if (known.state !== 'ACTIVE') {
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `transaction ${gtrid} is ${known.state}, committed or being committed by Commit, not by a Run: a Run names a new transaction, or one begun with Begin and not used since. Nothing was run`,
    )
  }
  if (known.branches.length > 0) {
    throw new TmError(
      'TM_ILLEGAL_STATE',
      `transaction ${gtrid} already has work from Execute or Enlist: a Run names a new transaction, or one begun with Begin and not used since. Nothing was run`,
    )
  }
  return undefined
}
