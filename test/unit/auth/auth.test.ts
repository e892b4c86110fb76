// Token auth on a real in-process TM (no resources needed): who may call
// what, and that health checks need no token.
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { protoPath as healthProtoPath } from 'grpc-health-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ConfigError } from '../../../server/config.js'
import { bearerSecret, requiredRoles, TokenAuthenticator } from '../../../server/grpc/auth.js'
import { startTestArbiter } from '../../helpers/test-arbiter.js'
import { adminClient, grpcError, tmClient } from '../../helpers/tm-client.js'

const APP_TOKEN = 'app-secret-0123456789abcdef'
const ADMIN_TOKEN = 'admin-secret-0123456789abcdef'

function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata()
  md.set('authorization', `Bearer ${token}`)
  return md
}

describe('TokenAuthenticator', () => {
  it('finds the principal of a known secret and nothing for others', () => {
    const auth = new TokenAuthenticator([
      { name: 'shop', role: 'application', token: APP_TOKEN },
      { name: 'ops', role: 'admin', tokenEnv: 'OPS_TOKEN' },
    ], { OPS_TOKEN: ADMIN_TOKEN })
    expect(auth.enabled).toBe(true)
    expect(auth.authenticate(APP_TOKEN)).toEqual({ name: 'shop', role: 'application' })
    expect(auth.authenticate(ADMIN_TOKEN)).toEqual({ name: 'ops', role: 'admin' })
    expect(auth.authenticate(`${APP_TOKEN}x`)).toBeUndefined()
    expect(auth.authenticate('')).toBeUndefined()
  })

  it('refuses short secrets, missing env variables and a secret configured twice', () => {
    expect(() => new TokenAuthenticator([{ name: 'a', role: 'admin', token: 'short' }])).toThrow(ConfigError)
    expect(() => new TokenAuthenticator([{ name: 'a', role: 'admin', tokenEnv: 'NOPE' }], {})).toThrow(/auth\.tokens\[0\]\.tokenEnv: .*got "NOPE", which is not set/)
    expect(
      () =>
        new TokenAuthenticator([
          { name: 'a', role: 'admin', token: ADMIN_TOKEN },
          { name: 'b', role: 'application', token: ADMIN_TOKEN },
        ]),
    ).toThrow(/auth\.tokens\[1\]: expected a secret no other token has/)
    expect(new TokenAuthenticator([]).enabled).toBe(false)
  })

  it('parses bearer headers and maps methods to roles', () => {
    expect(bearerSecret('Bearer abc')).toBe('abc')
    expect(bearerSecret('bearer   abc ')).toBe('abc')
    expect(bearerSecret('Basic abc')).toBeUndefined()
    expect(bearerSecret('Bearer')).toBeUndefined()
    expect(requiredRoles('/grpc.health.v1.Health/Check')).toBeUndefined()
    expect(requiredRoles('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo')).toBeUndefined()
    expect(requiredRoles('/arbiter.v1.TransactionManager/Begin')).toEqual(['application', 'admin'])
    expect(requiredRoles('/arbiter.v1.Admin/ListResources')).toEqual(['admin'])
    expect(requiredRoles('/something.Else/Method')).toEqual(['admin'])
  })
})

describe('auth interceptor on a running TM', () => {
  let server: Awaited<ReturnType<typeof startTestArbiter>>
  let tm: ReturnType<typeof tmClient>
  let admin: ReturnType<typeof adminClient>

  beforeAll(async () => {
    server = await startTestArbiter([], {
      auth: {
        tokens: [
          { name: 'shop', role: 'application', token: APP_TOKEN },
          { name: 'ops', role: 'admin', token: ADMIN_TOKEN },
        ],
      },
    })
    tm = tmClient(server.address)
    admin = adminClient(server.address)
  })
  afterAll(async () => {
    tm?.close()
    admin?.close()
    await server?.stopAndClean()
  })

  it('no token: UNAUTHENTICATED, with the catalog code on the wire', async () => {
    const error = await grpcError(admin.admin.ListResources({}))
    expect(error.code).toBe(grpc.status.UNAUTHENTICATED)
    expect(error.details).toMatch(/authorization: Bearer/)
    expect(error.metadata.get('grpc-status-details-bin')).toHaveLength(1)
    expect((await grpcError(tm.tm.Begin({}))).code).toBe(grpc.status.UNAUTHENTICATED)
  })

  it('an unknown token: UNAUTHENTICATED', async () => {
    expect((await grpcError(admin.admin.ListResources({}, bearer('not-a-known-token-at-all')))).code).toBe(grpc.status.UNAUTHENTICATED)
    expect((await grpcError(tm.tm.Begin({}, bearer('not-a-known-token-at-all')))).code).toBe(grpc.status.UNAUTHENTICATED)
  })

  it("the application's token: TransactionManager yes, Admin PERMISSION_DENIED", async () => {
    const { gtrid } = await tm.tm.Begin({}, bearer(APP_TOKEN))
    expect(gtrid).toMatch(/:/)
    await tm.tm.Rollback({ gtrid, reason: 'test' }, bearer(APP_TOKEN))
    const error = await grpcError(admin.admin.ListResources({}, bearer(APP_TOKEN)))
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED)
    expect(error.details).toMatch(/"shop" \(role application\)/)
  })

  it("the admin's token: both services", async () => {
    expect(await admin.admin.ListResources({}, bearer(ADMIN_TOKEN))).toEqual({ resources: [] })
    const { gtrid } = await tm.tm.Begin({}, bearer(ADMIN_TOKEN))
    const listed = await admin.admin.ListTransactions({}, bearer(ADMIN_TOKEN))
    expect(listed.transactions.map((t) => t.transaction!.gtrid)).toContain(gtrid)
    await tm.tm.Rollback({ gtrid, reason: 'test' }, bearer(ADMIN_TOKEN))
  })

  it('health checks need no token', async () => {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })
    const loaded = grpc.loadPackageDefinition(definition) as unknown as { grpc: { health: { v1: { Health: typeof grpc.Client } } } }
    const Health = loaded.grpc.health.v1.Health
    const client = new Health(server.address, grpc.credentials.createInsecure())
    const response = await new Promise<{ status: string }>((resolve, reject) =>
      (client as unknown as { Check: (req: object, cb: (e: grpc.ServiceError | null, r: { status: string }) => void) => void }).Check({ service: '' }, (error: grpc.ServiceError | null, res: { status: string }) => (error ? reject(error) : resolve(res))),
    )
    expect(response.status).toBe('SERVING')
    client.close()
  })
})

describe('auth off (no tokens configured)', () => {
  it('lets every call through', async () => {
    const server = await startTestArbiter([])
    const { admin, close } = adminClient(server.address)
    try {
      expect(await admin.ListResources({})).toEqual({ resources: [] })
    } finally {
      close()
      await server.stopAndClean()
    }
  })
})
