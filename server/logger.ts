// JSON logs (pino). Secrets never reach a log line: connection URLs are
// printed with their passwords masked (in the userinfo and in the query),
// and token-ish fields are redacted.
import { pino, type Logger } from 'pino'

export type { Logger }

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream } = {}): Logger {
  return pino(
    {
      level: options.level ?? process.env.ARBITER_LOG_LEVEL ?? 'info',
      base: { service: 'arbiter' },
      redact: {
        paths: [
          'password',
          '*.password',
          'token',
          '*.token',
          'authorization',
          '*.authorization',
          'secret',
          '*.secret',
          'privateKey',
          '*.privateKey',
          'private_key',
          '*.private_key',
        ],
        censor: '[redacted]',
      },
    },
    options.destination ?? process.stdout,
  )
}

/** A connection URL fit for a log line: passwords, and query parameters that look secret, as "***" (config/mask-secrets.ts). */
export { maskSecrets as maskUrl } from './config/mask-secrets.js'
