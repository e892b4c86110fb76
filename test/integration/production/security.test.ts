// Transport security and auth: TLS and mutual TLS on the gRPC port (with the
// client library's tls options), bearer tokens with roles over TLS, and the
// loopback-only rule for a TM with neither TLS nor tokens.
import { readFileSync, rmSync } from 'node:fs'
import { Writable } from 'node:stream'
import * as grpc from '@grpc/grpc-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createArbiterClient,
  UnauthenticatedError,
  UnavailableError,
  type ArbiterClient,
  type TlsOptions,
} from '../../../client/index.js'
import { ConfigError, parseConfig, type ArbiterConfigInput } from '../../../server/config.js'
import { startArbiterServer } from '../../../server/arbiter-server.js'
import { createLogger } from '../../../server/logger.js'
import { loadArbiterProto } from '../../../proto/load.js'
import { sharedServerUrls } from '../../harness/index.js'
import { createTestDatabases, type TestDatabases } from '../../helpers/databases.js'
import { startTestArbiter, testConfig } from '../../helpers/test-arbiter.js'
import { makeCertificates, type TestCertificates } from './helpers.js'

const APP_TOKEN = 'app-token-0123456789abcdef'
const ADMIN_TOKEN = 'admin-token-0123456789abcdef'
const TOKENS = {
  tokens: [
    { name: 'shop', role: 'application' as const, token: APP_TOKEN },
    { name: 'ops', role: 'admin' as const, token: ADMIN_TOKEN },
  ],
}

let certs: TestCertificates
let dbs: TestDatabases
const clients: ArbiterClient[] = []

beforeAll(async () => {
  certs = makeCertificates()
  dbs = await createTestDatabases(sharedServerUrls(), 'security')
})

afterAll(async () => {
  for (const c of clients) c.close()
  await dbs?.close()
  if (certs) rmSync(certs.dir, { recursive: true, force: true })
})

const pem = (path: string): Buffer => readFileSync(path)

function client(address: string, options: { tls?: TlsOptions; token?: string } = {}): ArbiterClient {
  const c = createArbiterClient({ address, defaultDeadlineMs: 5000, outcomeQueryAttempts: 1, ...options })
  clients.push(c)
  return c
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error('expected a failure')
}

/** One real transaction through the client library. */
async function runOne(c: ArbiterClient, id: number): Promise<string> {
  const result = await c.run([{ resource: 'pg', sql: 'INSERT INTO accounts VALUES ($1, 1)', params: [id] }])
  return result.transaction.state
}

describe('TLS', () => {
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  beforeAll(async () => {
    arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile },
      auth: TOKENS,
    })
  })
  afterAll(async () => arbiter?.stopAndClean())

  it('a client trusting the CA commits over TLS (with its token)', async () => {
    expect(await runOne(client(arbiter.address, { tls: { ca: pem(certs.caFile) }, token: APP_TOKEN }), 1)).toBe('COMMITTED')
  })

  it('a plaintext client is refused (UNAVAILABLE: no TLS handshake)', async () => {
    const error = await failure(runOne(client(arbiter.address, { token: APP_TOKEN }), 2))
    expect(error).toBeInstanceOf(UnavailableError)
  })

  it('a client that does not trust the server certificate is refused', async () => {
    const error = await failure(runOne(client(arbiter.address, { tls: { ca: pem(certs.strangerCertFile) }, token: APP_TOKEN }), 3))
    expect(error).toBeInstanceOf(UnavailableError)
  })

  it('tokens over TLS: none or a wrong one → UNAUTHENTICATED; the application token on Admin → PERMISSION_DENIED; the admin token → both', async () => {
    const tls = { ca: pem(certs.caFile) }
    expect(await failure(runOne(client(arbiter.address, { tls }), 4))).toBeInstanceOf(UnauthenticatedError)
    expect(await failure(runOne(client(arbiter.address, { tls, token: 'wrong-token-0123456789abcdef' }), 5))).toBeInstanceOf(UnauthenticatedError)
    // The same secret with one character changed, and a prefix of it: no partial matches.
    expect(await failure(runOne(client(arbiter.address, { tls, token: APP_TOKEN.slice(0, -1) + 'X' }), 6))).toBeInstanceOf(UnauthenticatedError)
    expect(await failure(runOne(client(arbiter.address, { tls, token: APP_TOKEN.slice(0, 16) }), 7))).toBeInstanceOf(UnauthenticatedError)
    expect(await runOne(client(arbiter.address, { tls, token: ADMIN_TOKEN }), 8)).toBe('COMMITTED')

    const { proto } = loadArbiterProto()
    const creds = grpc.credentials.createSsl(pem(certs.caFile))
    const admin = new proto.arbiter.v1.Admin(arbiter.address, creds)
    const listResources = (token: string | undefined) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        const md = new grpc.Metadata()
        if (token !== undefined) md.set('authorization', token)
        admin.ListResources({}, md, { deadline: Date.now() + 5000 }, (error) => resolve(error))
      })
    expect((await listResources(`Bearer ${APP_TOKEN}`))?.code).toBe(grpc.status.PERMISSION_DENIED)
    expect((await listResources(undefined))?.code).toBe(grpc.status.UNAUTHENTICATED)
    expect((await listResources(`Basic ${ADMIN_TOKEN}`))?.code).toBe(grpc.status.UNAUTHENTICATED)
    expect((await listResources(`Bearer ${ADMIN_TOKEN} extra`))?.code).toBe(grpc.status.UNAUTHENTICATED)
    expect(await listResources(`Bearer ${ADMIN_TOKEN}`)).toBeNull()
    expect(await listResources(`bearer  ${ADMIN_TOKEN}`)).toBeNull()
    admin.close()
  })

})

describe('mutual TLS', () => {
  let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
  beforeAll(async () => {
    arbiter = await startTestArbiter([{ name: 'pg', kind: 'postgres', url: dbs.pgUrl }], {
      tls: { certFile: certs.serverCertFile, keyFile: certs.serverKeyFile, caFile: certs.caFile, requireClientCert: true },
    })
  })
  afterAll(async () => arbiter?.stopAndClean())

  it('a client with a certificate from the trusted CA commits', async () => {
    const tls = { ca: pem(certs.caFile), cert: pem(certs.clientCertFile), key: pem(certs.clientKeyFile) }
    expect(await runOne(client(arbiter.address, { tls }), 11)).toBe('COMMITTED')
  })

  it('a client without a certificate is refused', async () => {
    expect(await failure(runOne(client(arbiter.address, { tls: { ca: pem(certs.caFile) } }), 12))).toBeInstanceOf(UnavailableError)
  })

  it("a client with a certificate from a CA the server does not trust is refused", async () => {
    const tls = { ca: pem(certs.caFile), cert: pem(certs.strangerCertFile), key: pem(certs.strangerKeyFile) }
    expect(await failure(runOne(client(arbiter.address, { tls }), 13))).toBeInstanceOf(UnavailableError)
  })

  it('a plaintext client is refused', async () => {
    expect(await failure(runOne(client(arbiter.address), 14))).toBeInstanceOf(UnavailableError)
  })
})

describe('listen rules and TLS config errors', () => {
  const base = (overrides: Partial<ArbiterConfigInput>): ArbiterConfigInput => ({ ...testConfig([]), ...overrides })

  it('a non-loopback address with neither TLS nor tokens is a config error that says what to do', () => {
    expect(() => parseConfig(base({ listen: '0.0.0.0:0' }))).toThrow(ConfigError)
    expect(() => parseConfig(base({ listen: '0.0.0.0:0' }))).toThrow(/listen: expected a loopback address .*tls and\/or auth\.tokens.*allowInsecureNonLoopback.*, got "0\.0\.0\.0:0", not a loopback address/s)
    expect(() => parseConfig(base({ listen: '[::]:0' }))).toThrow(/not a loopback address/)
    // Loopback is fine; so is anything with TLS or tokens.
    for (const listen of ['127.0.0.1:0', 'localhost:0', '[::1]:0', '127.0.0.2:0']) expect(() => parseConfig(base({ listen }))).not.toThrow()
    expect(() => parseConfig(base({ listen: '0.0.0.0:0', auth: TOKENS }))).not.toThrow()
    expect(() => parseConfig(base({ listen: '0.0.0.0:0', tls: { certFile: 'c', keyFile: 'k' } }))).not.toThrow()
  })

  it('requireClientCert needs caFile; the env spells booleans as text', () => {
    expect(() => parseConfig(base({ tls: { certFile: 'c', keyFile: 'k', requireClientCert: true } }))).toThrow(/tls\.caFile: expected a caFile .* when requireClientCert is true/)
    const parsed = parseConfig(base({ tls: { certFile: 'c', keyFile: 'k', requireClientCert: 'false' as unknown as boolean } }))
    expect(parsed.tls?.requireClientCert).toBe(false)
  })

  it('allowInsecureNonLoopback starts on 0.0.0.0 and warns loudly', async () => {
    let output = ''
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        output += chunk.toString()
        callback()
      },
    })
    const config = parseConfig(base({ listen: '0.0.0.0:0', allowInsecureNonLoopback: true }))
    const server = await startArbiterServer(config, { logger: createLogger({ level: 'info', destination }) })
    await server.stop()
    rmSync(config.dataDir, { recursive: true, force: true })
    expect(output).toMatch(/"level":40[^\n]*INSECURE: listening on a non-loopback address/)
  })

  it('a missing certificate file stops start-up with the file named', async () => {
    const config = parseConfig(base({ tls: { certFile: `${certs.dir}/missing.crt`, keyFile: certs.serverKeyFile } }))
    await expect(startArbiterServer(config, { logger: createLogger({ level: 'silent' }) })).rejects.toThrow(/tls\.certFile: expected a readable PEM certificate file, got ".*missing\.crt" \(ENOENT\)/)
    rmSync(config.dataDir, { recursive: true, force: true })
  })
})
