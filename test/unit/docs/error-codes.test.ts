// The error-code table of docs/error-codes.md against the catalog it
// documents, proto/errors.ts (style.md §2: "a test keeps catalog, README
// table and proto in sync"): the same codes, each with its gRPC status and
// whether it is retryable. The "what to do" column is prose and may say more
// than the catalog's `action`; it is not compared.
import { status as GrpcStatus } from '@grpc/grpc-js'
import { describe, expect, it } from 'vitest'
import { TM_ERRORS, type TmErrorCode } from '../../../proto/errors.js'
import { docFiles, proseLines, readDoc } from './markdown.js'

interface Row {
  readonly code: string
  readonly status: string
  readonly retryable: string
  readonly line: number
}

/** The rows of the table whose header is `| code | gRPC status | retryable | what to do |`. */
function catalogTable(text: string): Row[] {
  const lines = proseLines(text)
  const header = lines.findIndex((l) => /^\|\s*code\s*\|\s*gRPC status\s*\|\s*retryable\s*\|/.test(l))
  expect(header, 'docs/error-codes.md has the table | code | gRPC status | retryable | what to do |').toBeGreaterThanOrEqual(0)
  const rows: Row[] = []
  for (let i = header + 2; i < lines.length && lines[i]!.startsWith('|'); i++) {
    const cells = lines[i]!.split('|').slice(1, -1).map((c) => c.trim())
    const unquote = (cell: string | undefined): string => (cell ?? '').replace(/^`(.*)`$/, '$1')
    rows.push({ code: unquote(cells[0]), status: unquote(cells[1]), retryable: cells[2] ?? '', line: i + 1 })
  }
  return rows
}

const statusName = (status: GrpcStatus): string => GrpcStatus[status]

describe('docs/error-codes.md', () => {
  const rows = catalogTable(readDoc('docs/error-codes.md'))

  it('lists every code of proto/errors.ts once, and no other', () => {
    const codes = rows.map((r) => r.code)
    expect(new Set(codes).size, `a code listed twice: ${codes.join(', ')}`).toBe(codes.length)
    expect([...codes].sort()).toEqual(Object.keys(TM_ERRORS).sort())
  })

  it("gives each code the catalog's gRPC status and retryability", () => {
    for (const row of rows) {
      const entry = TM_ERRORS[row.code as TmErrorCode]
      if (entry === undefined) continue // reported by the test above
      const where = `docs/error-codes.md:${row.line} (${row.code})`
      expect(row.status, `${where}: gRPC status`).toBe(statusName(entry.status))
      // "yes", "no", or "yes (per abort: …)": the first word is the catalog's default.
      const said = /^(yes|no)\b/.exec(row.retryable)?.[1]
      expect(said, `${where}: the retryable cell starts with yes or no, got "${row.retryable}"`).toBeDefined()
      expect(said === 'yes', `${where}: retryable`).toBe(entry.retryable)
    }
  })

  it('every TM_* code the docs name is in the catalog', () => {
    for (const file of docFiles()) {
      proseLines(readDoc(file)).forEach((line, i) => {
        for (const m of line.matchAll(/`(TM_[A-Z_]+)`/g)) {
          expect(Object.hasOwn(TM_ERRORS, m[1]!), `${file}:${i + 1}: ${m[1]} is not a code of proto/errors.ts`).toBe(true)
        }
      })
    }
  })
})
