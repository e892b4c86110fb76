// A problem with the shared store (log.store: postgres) that stops start-up
// or a write, in words that name the option and what to do.
export class StoreError extends Error {
  override readonly name = 'StoreError'
  /** 2: the config or the store is wrong (as config errors); 1: it failed (unreachable, crashed). */
  readonly exitCode: 1 | 2
  readonly option: string

  constructor(message: string, o: { option: string; exitCode: 1 | 2; cause?: unknown }) {
    super(message, o.cause === undefined ? undefined : { cause: o.cause })
    this.option = o.option
    this.exitCode = o.exitCode
  }

  /** The store's own error, said for an operator (SQLSTATE classes, not message text). */
  static from(error: unknown, option: string, doing: string): StoreError {
    if (error instanceof StoreError) return error
    const e = error as { code?: string; message?: string }
    const message = e.message ?? String(error)
    const code = e.code ?? ''
    if (code === '42501') {
      return new StoreError(
        `the store named by ${option} refused ${doing}: ${message}. Its user needs CREATE on the schema (at the first start and each upgrade) ` +
          'and SELECT, INSERT, UPDATE, DELETE on the arbiter_* tables',
        { option, exitCode: 2, cause: error },
      )
    }
    if (code === '28P01' || code === '28000' || code === '3D000') {
      return new StoreError(`the store named by ${option} refused the connection (${message}): check the user, password and database in the URL`, {
        option,
        exitCode: 2,
        cause: error,
      })
    }
    if (code === '42P07' || code === '42P01' || code === '42703') {
      // A table of Arbiter's name that is not Arbiter's, or one missing: the database is not (all) an Arbiter store.
      return new StoreError(
        `the database named by ${option} is not an Arbiter store, or not a whole one (${message}, while ${doing}): ` +
          'give the store a database of its own, or restore the arbiter_* tables as Arbiter made them',
        { option, exitCode: 2, cause: error },
      )
    }
    return new StoreError(`the store named by ${option} failed while ${doing}: ${message}`, { option, exitCode: 1, cause: error })
  }
}
