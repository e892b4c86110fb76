// Found by hostile testing of the Python client (examples/python/): it could
// not use TLS (the channel was always plaintext), so its token crossed the
// network in clear text. Now ArbiterClient takes root_certificates /
// cert_chain / private_key (PEM bytes or file paths; tls=True for the
// system's roots) and refuses, before any call, to send a token in
// plaintext anywhere but a loopback address unless allow_insecure_token.
import { rmSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { makeCertificates, type TestCertificates } from '../production/helpers.js'
import { byCase, PythonFixtures, skipPython, type PyRecord } from './python-run.js'

const TOKEN = 'python-tls-token-0123456789'

describe.skipIf(skipPython())('Python client over TLS', () => {
  let py: PythonFixtures
  let certs: TestCertificates
  let tm: Awaited<ReturnType<typeof startTestArbiter>>
  let cases: Record<string, PyRecord>

  beforeAll(async () => {
    py = PythonFixtures.build()
    certs = makeCertificates()
    tm = await startTestArbiter([], {
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, requireClientCert: true },
      auth: { tokens: [{ name: 'app', role: 'application', token: TOKEN }] },
    })
    const args = ['--address', tm.address, '--token', TOKEN, '--ca', certs.caFile, '--cert', certs.clientCertFile, '--key', certs.clientKeyFile]
    cases = byCase(await py.run('tls_client.py', [...args, '--stranger-ca', certs.strangerCertFile]))
  })

  afterAll(async () => {
    await tm?.stopAndClean()
    if (certs) rmSync(certs.dir, { recursive: true, force: true })
    py?.remove()
  })

  it('reaches a TM that requires mutual TLS and a token, with the PEM given as file paths or as bytes', () => {
    expect(cases['mutual TLS, PEM file paths']).toMatchObject({ raised: null, state: 'TRANSACTION_STATE_ACTIVE' })
    expect(cases['mutual TLS, PEM bytes']).toMatchObject({ raised: null, state: 'TRANSACTION_STATE_ACTIVE' })
    // The token is checked over TLS, the client certificate is required, the TM's certificate is verified.
    expect(cases['wrong token over TLS']).toMatchObject({ raised: 'UnauthenticatedError', code: 'TM_UNAUTHENTICATED' })
    expect(cases['no client certificate']).toMatchObject({ raised: 'UnavailableError' })
    expect(cases["a CA that did not sign the TM's certificate"]).toMatchObject({ raised: 'UnavailableError' })
    expect(cases['plaintext to the TLS TM']).toMatchObject({ raised: 'UnavailableError' })
  })

  it('refuses to send a token in plaintext to anything but loopback, unless told it may', () => {
    for (const name of ['token in plaintext to a remote address', 'token in plaintext to a remote name']) {
      expect(cases[name], name).toMatchObject({ raised: 'InvalidArgumentError', code: 'TM_INVALID_ARGUMENT' })
      expect(cases[name]!.message).toMatch(/a token would travel in plaintext to .*allow_insecure_token=True/)
    }
    for (const name of ['token in plaintext, allowed insecure', 'token over TLS to a remote address', 'no token in plaintext to a remote address']) {
      expect(cases[name], name).toMatchObject({ raised: null })
    }
  })

  it('refuses half a client identity and a PEM file it cannot read', () => {
    expect(cases['cert_chain without private_key']).toMatchObject({ raised: 'InvalidArgumentError', message: expect.stringMatching(/cert_chain and private_key go together/) })
    expect(cases['a PEM file that is not there']).toMatchObject({ raised: 'InvalidArgumentError', message: expect.stringMatching(/root_certificates: cannot read the PEM file/) })
  })
})
