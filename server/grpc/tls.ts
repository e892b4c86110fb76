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
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message
    throw ConfigError.of([{ path: `tls.${what}`, expected: 'a readable PEM file', given: `${JSON.stringify(path)} (${code})` }], undefined)
  }
  if (!pem.includes('-----BEGIN ')) throw ConfigError.of([{ path: `tls.${what}`, expected: 'a PEM file', given: `${JSON.stringify(path)}, which holds no PEM block` }], undefined)
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
    throw ConfigError.of(
      [{ path: 'tls.certFile', expected: 'a certificate chain that goes with tls.keyFile', given: `${JSON.stringify(tls.certFile)} and ${JSON.stringify(tls.keyFile)}: ${(error as Error).message}` }],
      undefined,
    )
  }
}
