// What /readyz answers: whether a Commit sent to this node now can be
// decided. Not before start-up recovery has finished, not once a graceful
// stop has begun to drain (a balancer moves new work away at once), not while
// the decision log has failed or cannot write (a full disk refuses every
// decision). It comes back by itself when the log's folder takes writes again.
import type { DecisionLog } from './log/decision-log.js'
import type { WriteProbe } from './log/write-probe.js'

export class Readiness {
  private phase: 'starting' | 'ready' | 'draining' = 'starting'
  private log: DecisionLog | undefined
  private probe: WriteProbe | undefined

  /** Start-up has finished: from now on the log and its folder (the file store's) decide. */
  ready(log: DecisionLog, probe: WriteProbe | undefined): void {
    this.log = log
    this.probe = probe
    this.phase = 'ready'
  }

  /** A graceful stop began: no new transactions here. */
  draining(): void {
    this.phase = 'draining'
  }

  /** Why the node is not ready, or undefined when it is. */
  notReady(): string | undefined {
    if (this.phase === 'starting') return 'start-up recovery has not finished'
    if (this.phase === 'draining') return 'shutting down: draining transactions in progress, taking no new ones'
    const problem = this.log?.problem?.()
    if (problem !== undefined) return problem
    if (this.log?.healthy() !== true) return 'the decision log has failed (an fsync failed): restart the node'
    return this.probe?.problem
  }
}
