// Issue #21, item 6: `arbiter admin` reaches a TM that serves TLS or mutual
// TLS (--tls-ca, --tls-cert, --tls-key, or ARBITER_TLS_CA / _CERT / _KEY),
// and when it cannot, says why: a plaintext call to a TLS port, a CA that
// does not match, a client certificate missing or refused, TLS to a
// plaintext port. Before, it always spoke plaintext and said only
// "Failed to connect".
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { makeCertificates, type TestCertificates } from '../production/helpers.js'
import { runAdminCli } from './cli.js'

let certs: TestCertificates
let tlsTm: Awaited<ReturnType<typeof startTestArbiter>>
let mtlsTm: Awaited<ReturnType<typeof startTestArbiter>>
let plainTm: Awaited<ReturnType<typeof startTestArbiter>>

beforeAll(async () => {
  certs = makeCertificates()
  tlsTm = await startTestArbiter([], { tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile } })
  mtlsTm = await startTestArbiter([], {
    tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, requireClientCert: true },
  })
  plainTm = await startTestArbiter([])
})

afterAll(async () => {
  await Promise.all([tlsTm?.stopAndClean(), mtlsTm?.stopAndClean(), plainTm?.stopAndClean()])
  if (certs) rmSync(certs.dir, { recursive: true, force: true })
})

describe('arbiter admin over TLS', () => {
  it('reaches a TLS node with --tls-ca, or with ARBITER_TLS_CA', async () => {
    const byOption = await runAdminCli(['--address', tlsTm.address, '--tls-ca', certs.caFile, 'resources'])
    expect(byOption).toMatchObject({ code: 0, stdout: 'no resources configured\n' })
    const byEnv = await runAdminCli(['--address', tlsTm.address, 'resources'], { ARBITER_TLS_CA: certs.caFile })
    expect(byEnv).toMatchObject({ code: 0, stdout: 'no resources configured\n' })
    expect(byEnv.stderr).toBe('') // no DEP0123 warning about the IP address as TLS server name
  })

  it('a plaintext call to a TLS node says the node serves TLS and what to give', async () => {
    const r = await runAdminCli(['--address', tlsTm.address, 'resources'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/UNAVAILABLE \(14\): the TM serves TLS and this call was plaintext: give --tls-ca FILE \(or ARBITER_TLS_CA\)/)
  })

  it("a CA that did not sign the node's certificate: the handshake failed, and why", async () => {
    const r = await runAdminCli(['--address', tlsTm.address, '--tls-ca', certs.strangerCertFile, 'resources'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/TLS handshake failed \(.*verify.*\): the TM's certificate does not check out against --tls-ca/)
  })

  it('mutual TLS: the client certificate by option or by ARBITER_TLS_CERT / ARBITER_TLS_KEY', async () => {
    const byOption = await runAdminCli(['--address', mtlsTm.address, '--tls-ca', certs.caFile, '--tls-cert', certs.clientCertFile, '--tls-key', certs.clientKeyFile, 'resources'])
    expect(byOption.code).toBe(0)
    const byEnv = await runAdminCli(['--address', mtlsTm.address, 'resources'], {
      ARBITER_TLS_CA: certs.caFile,
      ARBITER_TLS_CERT: certs.clientCertFile,
      ARBITER_TLS_KEY: certs.clientKeyFile,
    })
    expect(byEnv.code).toBe(0)
  })

  it('mutual TLS without a client certificate, or with one the node does not trust: the handshake failed, and why', async () => {
    const none = await runAdminCli(['--address', mtlsTm.address, '--tls-ca', certs.caFile, 'resources'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/TLS handshake failed \(.*certificate required.*\): the TM requires a client certificate: give --tls-cert and --tls-key/)
    const stranger = await runAdminCli(['--address', mtlsTm.address, '--tls-ca', certs.caFile, '--tls-cert', certs.strangerCertFile, '--tls-key', certs.strangerKeyFile, 'resources'])
    expect(stranger.code).toBe(1)
    expect(stranger.stderr).toMatch(/TLS handshake failed \(.*\): the TM does not accept the client certificate of --tls-cert/)
  })

  it('a plaintext call to a node that requires client certificates says the node serves TLS (found by review: it said only "Failed to connect")', async () => {
    const r = await runAdminCli(['--address', mtlsTm.address, 'resources'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/the TM serves TLS and this call was plaintext: give --tls-ca FILE/)
  })

  it('TLS to a plaintext node says the node does not serve TLS', async () => {
    const r = await runAdminCli(['--address', plainTm.address, '--tls-ca', certs.caFile, 'resources'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/TLS handshake failed \(.*wrong version number.*\): the TM does not serve TLS/)
  })

  it('usage errors (exit 2): a certificate without its key, a file that cannot be read', async () => {
    const half = await runAdminCli(['--address', tlsTm.address, '--tls-cert', certs.clientCertFile, 'resources'])
    expect(half).toMatchObject({ code: 2, stderr: 'arbiter admin: --tls-cert and --tls-key go together (mutual TLS)\n' })
    const missing = await runAdminCli(['--address', tlsTm.address, '--tls-ca', `${certs.dir}/missing.pem`, 'resources'])
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/--tls-ca .*missing\.pem: cannot read it \(ENOENT\)/)
  })

  it('usage errors (exit 2, no stack): a key that is not the certificate\'s, files that are not PEM (found by review: a stack trace, exit 1)', async () => {
    const cases: [string[], RegExp][] = [
      [['--tls-cert', certs.clientCertFile, '--tls-key', certs.serverKeyFile], /--tls-key .*server\.key: expected the private key of --tls-cert .*client\.crt \(.*\)/],
      [['--tls-cert', `${certs.dir}/client.ext`, '--tls-key', certs.clientKeyFile], /--tls-cert .*client\.ext: expected a PEM certificate/],
      [['--tls-ca', `${certs.dir}/client.ext`], /--tls-ca .*client\.ext: expected a PEM CA certificate/],
    ]
    for (const [args, message] of cases) {
      const r = await runAdminCli(['--address', mtlsTm.address, ...args, 'resources'])
      expect(r.code).toBe(2)
      expect(r.stderr).toMatch(message)
      expect(r.stderr).not.toMatch(/\n\s+at /)
    }
  })
})
