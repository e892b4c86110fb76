// TLS settings that look right and are not. Found by hostile testing:
//   - tls.caFile without requireClientCert checked nothing (grpc-js verifies
//     client certificates only when it requires them: clients with none, or
//     one from another CA, got in), though the docs called caFile the CA that
//     client certificates must chain to;
//   - an encrypted tls.keyFile was reported as holding "no PEM key".
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkServeConfig } from '../../../server/cli/serve-command.js'
import { makeCertificates } from '../../integration/production/helpers.js'

const certs = makeCertificates()
afterAll(() => rmSync(certs.dir, { recursive: true, force: true }))

function message(yaml: string): string {
  const file = join(certs.dir, `c${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, yaml)
  const checked = checkServeConfig(file, {})
  if ('config' in checked) return 'accepted'
  expect(checked.exitCode).toBe(2)
  return checked.message
}

const TLS = `certFile: ${certs.serverCertFile}, keyFile: ${certs.serverKeyFile}`

describe('tls.caFile', () => {
  it('without requireClientCert is a config error naming both keys', () => {
    for (const requireClientCert of ['', ', requireClientCert: false']) {
      const text = message(`tls: { ${TLS}, caFile: ${certs.caFile}${requireClientCert} }`)
      expect(text).toMatch(/^ {2}tls\.caFile: expected a caFile only with tls\.requireClientCert: true \(mutual TLS.*\); without it caFile checks nothing, so set requireClientCert: true or drop caFile, got ".*ca.*"$/m)
    }
  })

  it('with requireClientCert: true (mutual TLS), and TLS without caFile, are taken', () => {
    expect(message(`tls: { ${TLS}, caFile: ${certs.caFile}, requireClientCert: true }`)).toBe('accepted')
    expect(message(`tls: { ${TLS} }`)).toBe('accepted')
  })
})

describe('an encrypted tls.keyFile', () => {
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: certs.dir, stdio: 'pipe' })
  }
  // PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY) and OpenSSL's traditional form (Proc-Type: 4,ENCRYPTED), of the server's own key.
  const pkcs8 = join(certs.dir, 'server-pkcs8.key')
  const traditional = join(certs.dir, 'server-traditional.key')
  openssl('pkcs8', '-topk8', '-in', certs.serverKeyFile, '-out', pkcs8, '-v2', 'aes-256-cbc', '-passout', 'pass:k3y-pass')
  openssl('rsa', '-in', certs.serverKeyFile, '-out', traditional, '-aes256', '-traditional', '-passout', 'pass:k3y-pass')

  it.each([
    ['PKCS#8', pkcs8],
    ['traditional', traditional],
  ])('%s: says it is encrypted, not that it holds no PEM key', (_form, keyFile) => {
    const text = message(`tls: { certFile: ${certs.serverCertFile}, keyFile: ${keyFile} }`)
    expect(text).toContain(
      `  tls.keyFile: expected a readable PEM private key file, got ${JSON.stringify(keyFile)}, which is encrypted (ENCRYPTED PRIVATE KEY / Proc-Type: 4,ENCRYPTED): give an unencrypted key`,
    )
    expect(text).not.toMatch(/no PEM key|k3y-pass/)
  })
})
