// Helpers for the production-readiness tests: Prometheus text parsing, HTTP
// GETs against the metrics port, and test certificates made with openssl.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { get } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export async function httpGet(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get(url, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
    }).on('error', reject)
  })
}

/** Every sample of a Prometheus text exposition: `name{labels}` → value. */
export function parseMetrics(text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const space = line.lastIndexOf(' ')
    out.set(line.slice(0, space), Number(line.slice(space + 1)))
  }
  return out
}

/** The value of one sample; labels in any order. 0 when absent. */
export function sample(metrics: Map<string, number>, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels)
  for (const [key, value] of metrics) {
    const brace = key.indexOf('{')
    const keyName = brace === -1 ? key : key.slice(0, brace)
    if (keyName !== name) continue
    if (wanted.every(([k, v]) => key.includes(`${k}="${v}"`))) return value
  }
  return 0
}

export interface TestCertificates {
  readonly dir: string
  readonly caFile: string
  readonly serverCertFile: string
  readonly serverKeyFile: string
  readonly clientCertFile: string
  readonly clientKeyFile: string
  /** A client certificate from a CA the server does not trust. */
  readonly strangerCertFile: string
  readonly strangerKeyFile: string
}

/** A CA, a server certificate for 127.0.0.1/localhost (SAN), a client certificate, and a stranger's. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'arbiter-tls-'))
  const at = (name: string): string => join(dir, name)
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' })
  }
  const ca = (name: string): void => {
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.crt`), '-days', '2', '-subj', `/CN=${name}`)
  }
  const leaf = (name: string, caName: string, ext: string): void => {
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at(`${name}.key`), '-out', at(`${name}.csr`), '-subj', `/CN=${name}`)
    writeFileSync(at(`${name}.ext`), ext)
    ssl('x509', '-req', '-in', at(`${name}.csr`), '-CA', at(`${caName}.crt`), '-CAkey', at(`${caName}.key`), '-CAcreateserial', '-out', at(`${name}.crt`), '-days', '2', '-extfile', at(`${name}.ext`))
  }
  ca('test-ca')
  ca('stranger-ca')
  leaf('server', 'test-ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n')
  leaf('client', 'test-ca', 'extendedKeyUsage=clientAuth\n')
  leaf('stranger', 'stranger-ca', 'extendedKeyUsage=clientAuth\n')
  return {
    dir,
    caFile: at('test-ca.crt'),
    serverCertFile: at('server.crt'),
    serverKeyFile: at('server.key'),
    clientCertFile: at('client.crt'),
    clientKeyFile: at('client.key'),
    strangerCertFile: at('stranger.crt'),
    strangerKeyFile: at('stranger.key'),
  }
}
