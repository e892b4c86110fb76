// Helpers shared by the three classifiers: walk an error's `cause` chain and
// recognise the network failures every driver surfaces the same way.
import { AdapterError } from '../types.js'
import type { ErrorClass } from '../types.js'

/** Every error in the chain `err`, `err.cause`, … (at most 8, no cycles). */
export function causeChain(err: unknown): unknown[] {
  const out: unknown[] = []
  let cur: unknown = err
  while (cur !== undefined && cur !== null && out.length < 8 && !out.includes(cur)) {
    out.push(cur)
    cur = typeof cur === 'object' ? (cur as { cause?: unknown }).cause : undefined
  }
  return out
}

export function prop(err: unknown, key: string): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[key] : undefined
}

export function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message
  if (typeof err === 'string') return err
  try {
    return JSON.stringify(err) ?? String(err)
  } catch {
    return String(err)
  }
}

/** Socket-level errno codes that mean "the server could not be reached; try again". */
export const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'ECONNABORTED',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ERR_SOCKET_CLOSED',
  'ABORT_ERR',
])

/** The first network errno code in the chain, if any. */
export function networkCode(err: unknown): string | undefined {
  for (const e of causeChain(err)) {
    const code = prop(e, 'code')
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code
    const errs = prop(e, 'errors') // AggregateError from happy-eyeballs connects
    if (Array.isArray(errs)) {
      for (const inner of errs) {
        const c = prop(inner, 'code')
        if (typeof c === 'string' && NETWORK_CODES.has(c)) return c
      }
    }
  }
  return undefined
}

export function adapterError(
  errorClass: ErrorClass,
  resource: string,
  message: string,
  cause: unknown,
  serverCode?: string,
): AdapterError {
  return new AdapterError(errorClass, resource, message, {
    cause,
    ...(serverCode === undefined ? {} : { serverCode }),
  })
}

/** `context: detail` or just the detail. */
export function withContext(context: string | undefined, detail: string): string {
  return context === undefined || context === '' ? detail : `${context}: ${detail}`
}
