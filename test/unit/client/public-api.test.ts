// The public API's types (checked by `tsc --noEmit`, which includes test/),
// a check that no exported signature of client/ uses `any`, and that the
// public declarations import no database driver's types (issue #26).
import ts from 'typescript'
import { dirname, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import type pg from 'pg'
import type mysql from 'mysql2/promise'
import {
  ArbiterError,
  HeuristicOutcomeError,
  IllegalStateError,
  InvalidArgumentError,
  OutcomeUnknownError,
  PermissionDeniedError,
  ResourceExhaustedError,
  TransactionAbortedError,
  TransactionNotFoundError,
  UnauthenticatedError,
  UnavailableError,
  createArbiterClient,
  decimal,
  type ArbiterClient,
  type ArbiterClientOptions,
  type EnlistableConnection,
  type EnlistableMysqlConnection,
  type EnlistablePgClient,
  type ExecuteResult,
  type RetryOptions,
  type RunResult,
  type SqlParam,
  type Statement,
  type TmErrorCode,
  type Transaction,
  type TransactionInfo,
  type TransactionOptions,
  type TransactionState,
  type WaitFor,
} from '../../../client/index.js'

describe('public API types', () => {
  it('transaction() returns the callback value; execute() types rows by its generic', () => {
    expectTypeOf<ArbiterClient['transaction']>().toBeFunction()
    type Tx = Parameters<Parameters<ArbiterClient['transaction']>[0]>[0]
    expectTypeOf<Tx>().toEqualTypeOf<Transaction>()
    expectTypeOf<Transaction['gtrid']>().toEqualTypeOf<string>()
    const client = null as unknown as ArbiterClient
    const run = () =>
      client.transaction(async (tx) => {
        const typed = await tx.execute<{ id: number; name: string }>('pg', 'SELECT id, name FROM t')
        expectTypeOf(typed.rows).toEqualTypeOf<{ id: number; name: string }[]>()
        const plain = await tx.execute('pg', 'SELECT 1')
        expectTypeOf(plain).toEqualTypeOf<ExecuteResult<Record<string, unknown>>>()
        expectTypeOf(plain.affectedRows).toEqualTypeOf<number>()
        return 42 as const
      })
    expectTypeOf(run).returns.resolves.toEqualTypeOf<42>()
    expectTypeOf<ReturnType<ArbiterClient['run']>>().resolves.toEqualTypeOf<RunResult>()
    expectTypeOf<Parameters<Transaction['executeBatch']>[0]>().toEqualTypeOf<readonly Statement[]>()
    expectTypeOf<ReturnType<Transaction['executeBatch']>>().resolves.toEqualTypeOf<ExecuteResult[]>()
    expectTypeOf<ReturnType<ArbiterClient['getTransaction']>>().resolves.toEqualTypeOf<TransactionInfo>()
    expectTypeOf<TransactionInfo['state']>().toEqualTypeOf<TransactionState>()
  })

  it('parameters accept the documented JS types and reject others', () => {
    expectTypeOf<null>().toExtend<SqlParam>()
    expectTypeOf<bigint>().toExtend<SqlParam>()
    expectTypeOf<Buffer>().toExtend<SqlParam>()
    expectTypeOf<Date>().toExtend<SqlParam>()
    expectTypeOf<{ a: number[] }>().toExtend<SqlParam>()
    expectTypeOf(decimal('1.5')).toExtend<SqlParam>()
    expectTypeOf<symbol>().not.toExtend<SqlParam>()
    expectTypeOf<() => void>().not.toExtend<SqlParam>()
  })

  it('enlist accepts pg clients and mysql2/promise connections', () => {
    expectTypeOf<pg.Client>().toExtend<EnlistableConnection>()
    expectTypeOf<pg.PoolClient>().toExtend<EnlistableConnection>()
    expectTypeOf<mysql.Connection>().toExtend<EnlistableConnection>()
    expectTypeOf<mysql.PoolConnection>().toExtend<EnlistableConnection>()
    expectTypeOf<string>().not.toExtend<EnlistableConnection>()
    // Each driver's own shape too (declared in client/, so the public declarations import no driver types).
    expectTypeOf<pg.PoolClient>().toExtend<EnlistablePgClient>()
    expectTypeOf<mysql.PoolConnection>().toExtend<EnlistableMysqlConnection>()
  })

  it('options', () => {
    expectTypeOf<TransactionOptions>().toEqualTypeOf<{
      readonly timeoutMs?: number
      readonly labels?: Readonly<Record<string, string>>
      readonly waitFor?: WaitFor
      readonly retry?: RetryOptions
      readonly signal?: AbortSignal
    }>()
    expectTypeOf<WaitFor>().toEqualTypeOf<'applied' | 'durable'>()
    expectTypeOf<RetryOptions['attempts']>().toEqualTypeOf<number>()
    expectTypeOf<ArbiterClientOptions['address']>().toEqualTypeOf<string | undefined>()
    expectTypeOf<ArbiterClientOptions['addresses']>().toEqualTypeOf<readonly string[] | undefined>()
    expectTypeOf<ArbiterClientOptions['token']>().toEqualTypeOf<string | undefined>()
    expectTypeOf(createArbiterClient).parameter(0).toEqualTypeOf<ArbiterClientOptions>()
    expectTypeOf(createArbiterClient).returns.toEqualTypeOf<ArbiterClient>()
  })

  it('error classes', () => {
    for (const Class of [
      TransactionAbortedError,
      OutcomeUnknownError,
      TransactionNotFoundError,
      HeuristicOutcomeError,
      UnavailableError,
      InvalidArgumentError,
      IllegalStateError,
      ResourceExhaustedError,
      UnauthenticatedError,
      PermissionDeniedError,
    ]) {
      expect(new Class('m')).toBeInstanceOf(ArbiterError)
      expect(new Class('m')).toBeInstanceOf(Error)
    }
    expectTypeOf<TransactionAbortedError>().toExtend<ArbiterError>()
    expectTypeOf<ArbiterError['code']>().toEqualTypeOf<TmErrorCode>()
    expectTypeOf<ArbiterError['grpcCode']>().toEqualTypeOf<number>()
    expectTypeOf<ArbiterError['retryable']>().toEqualTypeOf<boolean>()
    expectTypeOf<ArbiterError['details']>().toEqualTypeOf<string>()
    expectTypeOf<ArbiterError['metadata']>().toEqualTypeOf<Readonly<Record<string, string>>>()
    expectTypeOf<TransactionAbortedError['reason']>().toEqualTypeOf<string>()
  })
})

/** The declarations tsc emits for client/index.ts and adapters/index.ts and everything they reach, by file name. */
function emitDeclarations(): Map<string, string> {
  const roots = ['client', 'adapters'].map((dir) => fileURLToPath(new URL(`../../../${dir}/index.ts`, import.meta.url)))
  const configPath = fileURLToPath(new URL('../../../tsconfig.json', import.meta.url))
  const { config } = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p)) as { config: { compilerOptions: object } }
  const { options } = ts.convertCompilerOptionsFromJson(config.compilerOptions, fileURLToPath(new URL('../../..', import.meta.url)))
  const program = ts.createProgram(roots, { ...options, noEmit: false, declaration: true, emitDeclarationOnly: true, stripInternal: true, sourceMap: false })
  const declarations = new Map<string, string>()
  program.emit(undefined, (fileName, text) => declarations.set(resolve(fileName), text))
  return declarations
}

/** The modules outside the package that the declarations reachable from `<dir>/index.d.ts` import. */
function externalImports(declarations: ReadonlyMap<string, string>, dir: string): string[] {
  const entry = [...declarations.keys()].find((file) => file.endsWith(`${sep}${dir}${sep}index.d.ts`))!
  const reached = new Set<string>()
  const external = new Set<string>()
  const visit = (file: string): void => {
    if (reached.has(file)) return
    reached.add(file)
    const text = declarations.get(file)
    expect(text, `${file} was emitted`).toBeDefined()
    for (const [, specifier] of text!.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)) {
      if (specifier!.startsWith('.')) visit(resolve(dirname(file), specifier!.replace(/\.js$/, '.d.ts')))
      else external.add(specifier!)
    }
  }
  visit(entry)
  return [...external].sort()
}

describe('exported declarations', () => {
  let declarations: Map<string, string>
  beforeAll(() => {
    declarations = emitDeclarations()
  }, 60_000)

  it('the declarations emitted for client/ never mention any', () => {
    const client = [...declarations].filter(([file]) => /[\\/]client[\\/][^\\/]+\.d\.ts$/.test(file))
    expect(client.length).toBeGreaterThan(5)
    const offenders: string[] = []
    for (const [file, text] of client) {
      text.split('\n').forEach((line, i) => {
        const code = line.replace(/\/\/.*$|\/\*.*?\*\/|^\s*\*.*$/g, '')
        if (/\bany\b/.test(code)) offenders.push(`${file}:${i + 1}: ${line.trim()}`)
      })
    }
    expect(offenders).toEqual([])
  })

  // Issue #26: an application type-checks against `arbiter-tm/client` without @types/pg or any
  // driver's types: what client/index.d.ts reaches imports no database driver, only gRPC (whose
  // packages ship their types). test/integration/package/npm-pack.test.ts compiles a consumer of
  // the packed tarball.
  it('the declarations client/index.d.ts reaches import no database driver', () => {
    expect(externalImports(declarations, 'client')).toEqual(['@grpc/grpc-js', '@grpc/proto-loader'])
  })

  // `arbiter-tm/adapters` may name mysql2's types (mysql2, a dependency, ships them) but not pg's,
  // which live in @types/pg, a package the application would have to install.
  it('the declarations adapters/index.d.ts reaches need no @types package', () => {
    expect(externalImports(declarations, 'adapters').filter((m) => !/^mysql2(\/|$)/.test(m))).toEqual([])
  })
})
