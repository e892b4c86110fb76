// Server credentials for the gRPC port: plaintext, TLS, or mutual TLS
// (reliability.md §4, ecosystem.md §2). Certificates and keys are read from
// files at start-up; a missing or unreadable file stops start-up with the
// file named (its content never reaches a log line or an error message).
import { readFileSync } from 'node:fs'
import * as grpc from '@grpc/grpc-js'
import { ConfigError, type ArbiterConfig } from '../config.js'

export type TlsConfig = NonNullable<ArbiterConfig['tls']>

function readPem(what: string, path: string): Buffer {
  let pem: Buffer
  try {
    pem = readFileSync(path)
  } catch (error) {
    throw new ConfigError(`tls.${what} ${path}: cannot read it: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`)
  }
  if (!pem.includes('-----BEGIN ')) throw new ConfigError(`tls.${what} ${path}: not a PEM file`)
  return pem
}

/** Insecure without `tls`; TLS with it; mutual TLS when requireClientCert. */
export function serverCredentials(tls: TlsConfig | undefined): grpc.ServerCredentials {
  if (!tls) return grpc.ServerCredentials.createInsecure()
  const cert = readPem('certFile', tls.certFile)
  const key = readPem('keyFile', tls.keyFile)
  const ca = tls.caFile === undefined ? null : readPem('caFile', tls.caFile)
  try {
    return grpc.ServerCredentials.createSsl(ca, [{ private_key: key, cert_chain: cert }], tls.requireClientCert)
  } catch (error) {
    // grpc-js checks the PEM types; say which files, never what is in them.
    throw new ConfigError(`tls: cannot use certFile ${tls.certFile} / keyFile ${tls.keyFile}: ${(error as Error).message}`)
  }
}
