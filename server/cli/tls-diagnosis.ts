// Why `arbiter admin` could not reach a TM, when grpc-js only says "Failed
// to connect": a plaintext call to a TM that serves TLS, a TLS call to one
// that does not, a server certificate that does not chain to --tls-ca, or a
// client certificate the TM refuses (mutual TLS). Asked only after a call
// failed with UNAVAILABLE: one TLS handshake of our own, bounded in time.
import { isIP } from 'node:net'
import { connect, type ConnectionOptions } from 'node:tls'

export interface CliTls {
  readonly ca?: Buffer | undefined
  readonly cert?: Buffer | undefined
  readonly key?: Buffer | undefined
}

/** host and port of host:port or [v6]:port. */
function split(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(':')
  const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1')
  return { host, port: Number(address.slice(colon + 1)) }
}

/** `spokeTls`: the server finished a TLS handshake (whatever came after it). */
type Probe = { ok: true } | { ok: false; error: string; spokeTls: boolean }

/** One TLS handshake; in TLS 1.3 a refused client certificate arrives as an alert just after it, so wait a moment for that too. */
function handshake(address: string, options: ConnectionOptions, settleMs: number): Promise<Probe> {
  const { host, port } = split(address)
  return new Promise((resolve) => {
    const socket = connect({ host, port, ALPNProtocols: ['h2'], ...(isIP(host) === 0 && { servername: host }), ...options })
    let spokeTls = false
    const done = (result: { ok: true } | { ok: false; error: string }): void => {
      clearTimeout(timer)
      socket.destroy()
      resolve(result.ok ? result : { ...result, spokeTls })
    }
    const timer = setTimeout(() => done({ ok: false, error: 'no TLS handshake within 3 s' }), 3000)
    socket.once('error', (error: Error) => done({ ok: false, error: error.message }))
    socket.once('secureConnect', () => {
      spokeTls = true
      // A server that refuses the client's certificate after a TLS 1.3 handshake may just close the connection.
      socket.once('close', () => done({ ok: false, error: 'the TM closed the connection right after the handshake' }))
      socket.resume()
      setTimeout(() => done({ ok: true }), settleMs)
    })
  })
}

/** A sentence saying what went wrong, or undefined when TLS is not the problem. */
export async function diagnoseUnavailable(address: string, tls: CliTls | undefined): Promise<string | undefined> {
  if (tls === undefined) {
    const probe = await handshake(address, { rejectUnauthorized: false }, 0)
    // Not a TLS server either: the address or the TM is the problem. (One that asks for a client certificate
    // may refuse this probe right after its handshake, or with a "certificate required" alert: TLS all the same.)
    if (!probe.ok && !probe.spokeTls && !/certificate required|handshake failure/i.test(probe.error)) return undefined
    return 'the TM serves TLS and this call was plaintext: give --tls-ca FILE (or ARBITER_TLS_CA), the CA that signed its certificate, and for mutual TLS --tls-cert/--tls-key'
  }
  const probe = await handshake(address, { ...(tls.ca && { ca: tls.ca }), ...(tls.cert && { cert: tls.cert }), ...(tls.key && { key: tls.key }) }, 300)
  if (probe.ok) return undefined
  const error = probe.error.replace(/^.*SSL routines:[^:]*:/, '').replace(/:\.\.\/deps.*$/s, '')
  if (/wrong version number|packet length too long|unknown protocol/i.test(error)) {
    return `TLS handshake failed (${error}): the TM does not serve TLS; leave out --tls-ca/--tls-cert/--tls-key`
  }
  if (/certificate required/i.test(error)) return `TLS handshake failed (${error}): the TM requires a client certificate: give --tls-cert and --tls-key`
  if (/closed the connection right after the handshake/.test(error)) {
    return tls.cert
      ? `TLS handshake failed (${error}): the TM does not accept the client certificate of --tls-cert (it must chain to the TM's tls.caFile)`
      : `TLS handshake failed (${error}): the TM requires a client certificate: give --tls-cert and --tls-key`
  }
  if (/unknown ca|bad certificate|certificate unknown/i.test(error)) {
    return `TLS handshake failed (${error}): the TM does not accept the client certificate of --tls-cert (it must chain to the TM's tls.caFile)`
  }
  if (/verify|self.signed|certificate|altname|hostname/i.test(error)) {
    return `TLS handshake failed (${error}): the TM's certificate does not check out against --tls-ca (the CA that signed it, and a name or IP matching the address)`
  }
  if (/ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT/.test(error)) return undefined
  return `TLS handshake failed: ${error}`
}
