// One actor at a time on a transaction's prepared branches: an operator's
// resolution (Admin.ResolveBranch) and recovery's commit or rollback of the
// same gtrid take turns. Without it each judged the branch, then acted, and
// the one that came second found it finished by the other and reported that
// as its own success (found by hostile testing: an operator told "commit:
// already done" for a branch recovery had just rolled back, and two
// operators both answered OK for opposite resolutions). Whoever comes second
// now judges what the first left: the branch gone, or the log changed.
//
// Phase 2 of a transaction live here does not take it: it is coordinated
// with a forced resolution through the branch itself (operator-resolutions.ts).

export class GtridLock {
  /** Per gtrid, the turn the last caller waits for. */
  private readonly tails = new Map<string, Promise<void>>()

  /** Runs `fn` once every earlier caller for `gtrid` has finished. */
  async run<T>(gtrid: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(gtrid) ?? Promise.resolve()
    let release!: () => void
    const mine = new Promise<void>((resolve) => (release = resolve))
    const tail = previous.then(() => mine)
    this.tails.set(gtrid, tail)
    await previous
    try {
      return await fn()
    } finally {
      release()
      if (this.tails.get(gtrid) === tail) this.tails.delete(gtrid)
    }
  }
}
