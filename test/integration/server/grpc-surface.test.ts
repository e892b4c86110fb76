// What generic gRPC tools (grpcurl, health probes) see: server reflection
// lists and describes the services, and grpc.health.v1 answers SERVING.
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import { protoPath as healthProtoPath } from 'grpc-health-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestArbiter } from '../../helpers/test-arbiter.js'

const reflectionProto = fileURLToPath(new URL('../../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto', import.meta.url))

let arbiter: Awaited<ReturnType<typeof startTestArbiter>>
beforeAll(async () => {
  arbiter = await startTestArbiter([])
})
afterAll(async () => {
  await arbiter?.stopAndClean()
})

type Loaded = Record<string, Record<string, Record<string, Record<string, typeof grpc.Client>>>>

describe('gRPC surface for generic tools', () => {
  it('server reflection lists every service and describes arbiter.v1.TransactionManager', async () => {
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(reflectionProto, { keepCase: true })) as unknown as Loaded
    const Reflection = loaded.grpc!.reflection!.v1!.ServerReflection!
    const client = new Reflection(arbiter.address, grpc.credentials.createInsecure())
    const ask = (request: object): Promise<Record<string, unknown>> =>
      new Promise((resolve, reject) => {
        const stream = (client as unknown as { ServerReflectionInfo(): grpc.ClientDuplexStream<object, Record<string, unknown>> }).ServerReflectionInfo()
        stream.on('data', (response) => {
          resolve(response)
          stream.end()
        })
        stream.on('error', reject)
        stream.write(request)
      })
    const listed = await ask({ list_services: '' })
    const names = (listed.list_services_response as { service: { name: string }[] }).service.map((s) => s.name)
    expect(names).toEqual(expect.arrayContaining(['arbiter.v1.TransactionManager', 'arbiter.v1.Admin', 'grpc.health.v1.Health']))
    const described = await ask({ file_containing_symbol: 'arbiter.v1.TransactionManager' })
    const files = (described.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto
    expect(files.length).toBeGreaterThan(0)
    expect(Buffer.concat(files).toString('latin1')).toContain('TransactionManager')
    client.close()
  })

  it('grpc.health.v1 answers SERVING for the server and the TransactionManager service', async () => {
    const loaded = grpc.loadPackageDefinition(protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String })) as unknown as Loaded
    const Health = loaded.grpc!.health!.v1!.Health!
    const client = new Health(arbiter.address, grpc.credentials.createInsecure()) as unknown as {
      Check(req: { service: string }, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void): void
      close(): void
    }
    const check = (service: string) => new Promise<string | undefined>((resolve, reject) => client.Check({ service }, (e, r) => (e ? reject(e) : resolve(r?.status))))
    expect(await check('')).toBe('SERVING')
    expect(await check('arbiter.v1.TransactionManager')).toBe('SERVING')
    client.close()
  })
})
