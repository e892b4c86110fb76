// Logged COMMIT decisions whose phase 2 is not finished and that name a
// resource the config no longer has (renamed or removed across a restart).
// Recovery only scans configured resources, so nothing would ever commit
// those branches: they would stay prepared, holding their row locks, while
// the transaction showed COMMITTING for good and `in-doubt` said "phase 2
// is running" (found by hostile testing). A node on its own log refuses
// such a config at start-up instead, naming the resources and transactions,
// so the mistake shows at once and is undone by putting the resource back
// under its old name. A cluster node says so and starts: refusing would let
// its lease lapse and hand them to a node with the same config, which would
// be refused in turn.
import type { ConfigProblem } from '../config/config-error.js'
import type { LoggedTransaction } from '../log/decision-log.js'

/** The unconfigured resources unfinished decisions name, each with those transactions' gtrids. */
export function strandedDecisions(unfinished: readonly LoggedTransaction[], configured: ReadonlySet<string>): Map<string, string[]> {
  const stranded = new Map<string, string[]>()
  for (const logged of unfinished) {
    if (!logged.decision) continue
    for (const branch of logged.decision.branches) {
      // A branch an operator resolved is no longer phase 2's to finish.
      if (configured.has(branch.resource) || logged.resolutions.some((r) => r.resource === branch.resource && r.bqual === branch.bqual)) continue
      const gtrids = stranded.get(branch.resource) ?? []
      if (!gtrids.includes(logged.gtrid)) gtrids.push(logged.gtrid)
      stranded.set(branch.resource, gtrids)
    }
  }
  return stranded
}

/** The config problem start-up reports for them. */
export function strandedProblem(stranded: ReadonlyMap<string, string[]>): ConfigProblem {
  const list = [...stranded].map(([resource, gtrids]) => {
    const shown = gtrids.slice(0, 5).join(', ')
    return `"${resource}" (${gtrids.length} transaction${gtrids.length === 1 ? '' : 's'}: ${shown}${gtrids.length > 5 ? ', …' : ''})`
  })
  return {
    path: 'resources',
    expected:
      'every resource that a logged, unfinished COMMIT decision names, under the same name, so that recovery can commit its prepared branches ' +
      '(put it back as it was; if that database is gone for good, give the name a url that reaches no server, start, and abandon those branches: ' +
      'arbiter admin resolve --gtrid <gtrid> --resource <name> --abandon --force --reason <why>; the transactions then end HEURISTIC)',
    given: `no resource named ${list.join('; ')}`,
  }
}
