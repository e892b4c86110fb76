// Named fail points for fault-injection tests (reliability.md, issue #7).
// Off unless ARBITER_FAILPOINTS (or the config) names some; when off a hit is
// one boolean test, so they stay in the commit path at no cost.
//
// Spec: "name=action" pairs separated by ';'. "name#k=action" fires on the
// k-th hit only. Actions: "crash" (SIGKILL to this process, like kill -9),
// "sleep:MS", "error" (the operation fails).

export type FailpointName =
  | 'before-prepare'
  | 'after-prepare'
  | 'before-decision'
  | 'after-decision'
  | 'after-one-phase-commit'
  | 'after-phase2-commit'
  | 'before-end'
  | 'log-before-write'
  | 'log-before-fsync'
  | 'before-resolution'

type Action = { kind: 'crash' } | { kind: 'sleep'; ms: number } | { kind: 'error' }

interface Rule {
  readonly action: Action
  readonly onHit: number | undefined
  hits: number
}

let rules: Map<string, Rule> | undefined

export class FailpointError extends Error {
  override readonly name = 'FailpointError'
}

/** Parses and installs a spec; an empty spec switches every point off. */
export function configureFailpoints(spec: string | undefined): void {
  if (!spec || spec.trim() === '') {
    rules = undefined
    return
  }
  const parsed = new Map<string, Rule>()
  for (const part of spec.split(';').map((s) => s.trim()).filter(Boolean)) {
    const match = /^([a-z0-9-]+)(?:#(\d+))?=(crash|error|sleep:(\d+))$/.exec(part)
    if (!match) throw new Error(`bad fail point "${part}": expected name[#k]=crash|error|sleep:MS`)
    const [, name, k, actionText, ms] = match
    const action: Action =
      actionText === 'crash' ? { kind: 'crash' } : actionText === 'error' ? { kind: 'error' } : { kind: 'sleep', ms: Number(ms) }
    parsed.set(name!, { action, onHit: k === undefined ? undefined : Number(k), hits: 0 })
  }
  rules = parsed
}

/** Marks a point in the code; does what the installed spec says, if anything. */
export async function failpoint(name: FailpointName): Promise<void> {
  if (rules === undefined) return
  const rule = rules.get(name)
  if (!rule) return
  rule.hits += 1
  if (rule.onHit !== undefined && rule.hits !== rule.onHit) return
  switch (rule.action.kind) {
    case 'crash':
      process.stderr.write(`arbiter: fail point ${name} fired: crashing\n`)
      process.kill(process.pid, 'SIGKILL')
      await new Promise(() => {}) // never returns: the signal ends the process
      return
    case 'sleep':
      await new Promise((resolve) => setTimeout(resolve, (rule.action as { ms: number }).ms))
      return
    case 'error':
      throw new FailpointError(`fail point ${name} fired`)
  }
}

configureFailpoints(process.env.ARBITER_FAILPOINTS)
