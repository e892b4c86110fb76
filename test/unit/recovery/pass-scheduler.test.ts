// Recovery passes: callers at once share the pass under way; a caller that
// saw something change gets a pass that begins after its call. Found by the
// full suite: an application's session ended while another pass ran, the
// expedited pass joined that one (which had judged its branches before),
// and its row locks were held until the next timer tick (60 s there).
import { describe, expect, it } from 'vitest'
import { PassScheduler } from '../../../server/recovery/pass-scheduler.js'

/** Passes that run until the test lets each one finish. */
function controlledPasses() {
  const started: { scope: string; finish: (n: number) => void; fail: (e: Error) => void }[] = []
  const scheduler = new PassScheduler<number>(
    (scope) =>
      new Promise<number>((resolve, reject) => {
        started.push({ scope, finish: resolve, fail: reject })
      }),
  )
  return { scheduler, started }
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('PassScheduler', () => {
  it('shares the pass under way among callers of the same scope, not across scopes', async () => {
    const { scheduler, started } = controlledPasses()
    const a = scheduler.shared('')
    const b = scheduler.shared('')
    const c = scheduler.shared('pg')
    expect(started.map((p) => p.scope)).toEqual(['', 'pg'])
    started[0]!.finish(1)
    started[1]!.finish(2)
    expect(await Promise.all([a, b, c])).toEqual([1, 1, 2])
    // Once done, the next caller starts a new one.
    const d = scheduler.shared('')
    expect(started).toHaveLength(3)
    started[2]!.finish(3)
    expect(await d).toBe(3)
  })

  it('fresh() while a pass runs: a new pass begins after it ends, and callers meanwhile share that one', async () => {
    const { scheduler, started } = controlledPasses()
    const under = scheduler.shared('')
    const fresh1 = scheduler.fresh('')
    const fresh2 = scheduler.fresh('')
    await tick()
    expect(started).toHaveLength(1) // the fresh one waits for the pass under way
    started[0]!.finish(1)
    expect(await under).toBe(1)
    await tick()
    expect(started).toHaveLength(2)
    started[1]!.finish(2)
    expect(await Promise.all([fresh1, fresh2])).toEqual([2, 2])
  })

  it('fresh() with nothing under way starts at once; a failed pass under way still lets the fresh one run', async () => {
    const failing = new PassScheduler<number>(async (scope) => {
      if (scope === 'boom') throw new Error('unreachable resource')
      return 7
    })
    expect(await failing.fresh('')).toBe(7)
    const { scheduler, started } = controlledPasses()
    const first = scheduler.shared('')
    const fresh = scheduler.fresh('')
    started[0]!.fail(new Error('a resource did not answer'))
    await expect(first).rejects.toThrow('did not answer')
    await tick()
    started[1]!.finish(5)
    expect(await fresh).toBe(5)
  })
})
