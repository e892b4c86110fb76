// When recovery passes run. Callers asking at once share the pass under way
// (a timer tick, an operator's RunRecovery), one per scope. A caller that
// asks because something changed (an application's session ended, a
// takeover moved transactions here) needs a pass that begins after the
// change: the one under way may have judged its branches before it, and
// would leave them to the next tick. fresh() gives one: it waits out the
// pass under way and starts the next; callers asking meanwhile share it.

export class PassScheduler<R> {
  private readonly running = new Map<string, Promise<R>>()
  private readonly queued = new Map<string, Promise<R>>()

  constructor(private readonly pass: (scope: string) => Promise<R>) {}

  /** The pass under way for `scope`, else a new one. */
  shared(scope: string): Promise<R> {
    let pass = this.running.get(scope)
    if (!pass) {
      pass = this.pass(scope).finally(() => this.running.delete(scope))
      this.running.set(scope, pass)
    }
    return pass
  }

  /** A pass that begins after this call. */
  fresh(scope: string): Promise<R> {
    const running = this.running.get(scope)
    if (!running) return this.shared(scope)
    let next = this.queued.get(scope)
    if (!next) {
      next = running
        .catch(() => undefined)
        .then(() => {
          this.queued.delete(scope)
          return this.shared(scope)
        })
      this.queued.set(scope, next)
    }
    return next
  }
}
