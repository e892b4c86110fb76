// Loads the arbiter.v1 services at run time. The options must match the flags
// in scripts/proto-gen.sh so that values have the shapes the generated types say.
import { fileURLToPath } from 'node:url'
import * as grpc from '@grpc/grpc-js'
import * as protoLoader from '@grpc/proto-loader'
import './strict-strings.js' // before any message is decoded
import type { ProtoGrpcType as TmProto } from './gen/transaction_manager.js'
import type { ProtoGrpcType as AdminProto } from './gen/admin.js'

/** The folder holding the .proto files (include root). */
export const PROTO_ROOT = fileURLToPath(new URL('.', import.meta.url))

export const PROTO_FILES = [
  'arbiter/v1/transaction_manager.proto',
  'arbiter/v1/admin.proto',
  'google/rpc/status.proto',
  'google/rpc/error_details.proto',
] as const

export const LOADER_OPTIONS: protoLoader.Options = {
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
}

let cached: { definition: protoLoader.PackageDefinition; proto: TmProto & AdminProto } | undefined
let cachedAdmin: AdminProto | undefined

/** The package definition (for reflection) and the typed service constructors. */
export function loadArbiterProto(): { definition: protoLoader.PackageDefinition; proto: TmProto & AdminProto } {
  if (!cached) {
    const definition = protoLoader.loadSync([...PROTO_FILES], LOADER_OPTIONS)
    const proto = grpc.loadPackageDefinition(definition) as unknown as TmProto & AdminProto
    cached = { definition, proto }
  }
  return cached
}

/**
 * The Admin service alone (admin.proto and what it imports), for the
 * `arbiter admin` CLI: a third of the parsing of loadArbiterProto(), which
 * every admin command pays at start-up.
 */
export function loadAdminProto(): AdminProto {
  cachedAdmin ??= grpc.loadPackageDefinition(protoLoader.loadSync(['arbiter/v1/admin.proto'], LOADER_OPTIONS)) as unknown as AdminProto
  return cachedAdmin
}
