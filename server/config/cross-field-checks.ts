// The config's checks across fields, after each field is valid on its own
// (config.ts): names and limits that must agree, and the listen address
// against TLS and tokens.
import type { ParsedConfig } from '../config.js'
import type { ConfigProblem } from './config-error.js'

/** How far past transactions.maxTimeoutMs the shared store keeps ended transactions at least (clock differences between nodes). */
const RETAIN_MARGIN_MS = 60_000

/** Checks across fields, after each field is valid on its own. */
export function crossFieldProblems(config: ParsedConfig): ConfigProblem[] {
  const problems: ConfigProblem[] = []
  const firstIndex = new Map<string, number>()
  config.resources.forEach((r, i) => {
    const first = firstIndex.get(r.name)
    if (first === undefined) firstIndex.set(r.name, i)
    else problems.push({ path: `resources[${i}].name`, expected: `a name no other resource has (resources[${first}] is "${r.name}" too)`, given: JSON.stringify(r.name) })
  })
  const firstToken = new Map<string, number>()
  config.auth.tokens.forEach((t, i) => {
    const first = firstToken.get(t.name)
    if (first === undefined) firstToken.set(t.name, i)
    else problems.push({ path: `auth.tokens[${i}].name`, expected: `a name no other token has (auth.tokens[${first}] is "${t.name}" too)`, given: JSON.stringify(t.name) })
  })
  const { defaultTimeoutMs, maxTimeoutMs } = config.transactions
  if (defaultTimeoutMs > maxTimeoutMs) {
    problems.push({ path: 'transactions.defaultTimeoutMs', expected: `at most transactions.maxTimeoutMs (${maxTimeoutMs})`, given: String(defaultTimeoutMs) })
  }
  // A presumed-abort marker must outlive every begin that could still name its gtrid (clients name transactions).
  if (config.log.store === 'postgres' && config.log.retainEndedMs < maxTimeoutMs + RETAIN_MARGIN_MS) {
    problems.push({
      path: 'log.retainEndedMs',
      expected: `at least transactions.maxTimeoutMs + ${RETAIN_MARGIN_MS} (${maxTimeoutMs + RETAIN_MARGIN_MS}): ended transactions and presumed-abort markers must outlive the longest transaction`,
      given: String(config.log.retainEndedMs),
    })
  }
  // Found by hostile testing: the same address for both failed start-up as EADDRINUSE, naming neither setting.
  if (config.metrics.listen !== '' && config.metrics.listen === config.listen && !config.listen.endsWith(':0')) {
    problems.push({ path: 'metrics.listen', expected: `another address than listen (${config.listen}): the metrics port and the gRPC port cannot share one`, given: JSON.stringify(config.metrics.listen) })
  }
  const { listen, tls, auth, allowInsecureNonLoopback } = config
  if (!tls && auth.tokens.length === 0 && !isLoopbackListen(listen) && !allowInsecureNonLoopback) {
    problems.push({
      path: 'listen',
      expected:
        'a loopback address (127.0.0.1, ::1, localhost) while neither tls nor auth.tokens is configured: ' +
        'anyone who can reach the port could commit, roll back and resolve transactions. ' +
        'Configure tls and/or auth.tokens, listen on 127.0.0.1, or set allowInsecureNonLoopback: true (trusted networks only)',
      given: `${JSON.stringify(listen)}, not a loopback address`,
    })
  }
  return problems
}

/** The host part of host:port, without IPv6 brackets. */
export function hostOf(listen: string): string {
  const host = listen.slice(0, Math.max(0, listen.lastIndexOf(':')))
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host
}

/** True when host:port names a loopback interface only (127.0.0.0/8, ::1, localhost). */
export function isLoopbackListen(listen: string): boolean {
  const host = hostOf(listen).toLowerCase()
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host)
}
