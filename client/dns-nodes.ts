// One DNS name for a whole cluster, the way gRPC users write it:
// `dns:///arbiter.internal:50051` (or `dns:arbiter.internal:50051`). Each
// address the name resolves to is a node of its own: the client needs one
// connection per node to send a transaction's requests to the node that
// holds it, which one balanced channel (pick_first or round_robin) cannot.
// The name is resolved when the client is created and again every
// DNS_REFRESH_MS, so nodes added or replaced behind it are found.
import { lookup } from 'node:dns/promises'

/** How often a name is resolved again. */
export const DNS_REFRESH_MS = 30_000

export interface DnsTarget {
  readonly host: string
  readonly port: string
}

/** Resolves a host name to its addresses (IPv4 and IPv6). */
export type Resolve = (host: string) => Promise<string[]>

export const systemResolve: Resolve = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address)

/** The host and port of a `dns:` target; undefined for a plain host:port. */
export function dnsTarget(address: string): DnsTarget | undefined {
  const match = /^dns:(?:\/\/[^/]*\/)?(.+)$/.exec(address)
  if (!match) return undefined
  const hostPort = match[1]!
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(hostPort)
  if (bracketed) return { host: bracketed[1]!, port: bracketed[2]! }
  const colon = hostPort.lastIndexOf(':')
  if (colon <= 0 || !/^\d+$/.test(hostPort.slice(colon + 1))) return undefined
  return { host: hostPort.slice(0, colon), port: hostPort.slice(colon + 1) }
}

/** host:port for one resolved address (IPv6 in brackets). */
export function nodeAddress(ip: string, port: string): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`
}
