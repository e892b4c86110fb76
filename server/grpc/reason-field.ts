// The free-text reason a caller gives (Rollback, Admin.ResolveBranch): it is
// kept with the transaction and, for a resolution, written to the decision log.
import { TmError } from '../../proto/errors.js'

export const MAX_REASON_LENGTH = 2000

/**
 * An operator's reason (ResolveBranch), trimmed; INVALID_ARGUMENT naming `field` when it is too long or holds a
 * NUL. Found by hostile testing: a NUL reached the shared store's jsonb, which refused the whole batch it was
 * written in, aborting other callers' decisions with it (and the resolution itself was answered TM_INTERNAL).
 */
export function checkedReason(text: string, field: string): string {
  const reason = text.trim()
  if (reason.length > MAX_REASON_LENGTH) throw new TmError('TM_INVALID_ARGUMENT', `${field} is longer than ${MAX_REASON_LENGTH} characters`)
  if (reason.includes('\u0000')) throw new TmError('TM_INVALID_ARGUMENT', `${field} holds a NUL character (U+0000), which the decision log cannot store`)
  return reason
}

/**
 * A Rollback's reason, kept as the transaction's abort reason: cut to
 * MAX_REASON_LENGTH and without NULs, never refused. A rollback must not
 * fail for its note (clients pass error messages of any length there).
 * Found by hostile testing: two 3 MB reasons made the Admin listing too
 * large for a client to receive.
 */
export function keptReason(text: string): string {
  const reason = text.replaceAll('\u0000', '\uFFFD')
  return reason.length > MAX_REASON_LENGTH ? `${reason.slice(0, MAX_REASON_LENGTH)}… (cut at ${MAX_REASON_LENGTH} characters)` : reason
}
