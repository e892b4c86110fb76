// Every code sample of the documentation is checked, so the docs cannot drift
// from the code (issue #26, item 3):
//   - ```ts and ```js blocks of README.md and docs/*.md are type-checked with
//     the TypeScript compiler against the repository's sources, under
//     tsconfig.json's strict options. Each block is its own ES module (a
//     virtual file in test/integration/, where a test's relative imports such
//     as '../harness/index.js' start from; js blocks under checkJs), and the
//     package's own name (package.json `name` + its `exports`, e.g.
//     `<name>/client`) resolves to the source it is built from. Samples that
//     go on from an earlier one use the names that one set up; those are
//     declared once in SAMPLE_GLOBALS below, with the types they have there.
//   - ```yaml blocks are node configs: each goes through the server's own
//     config parser (server/config.ts parseConfig), defaults and all.
// A block that cannot be checked says why in `<!-- not-checked: reason -->`
// right before its fence; the test lists them. Other blocks (sh, text, plain)
// are not code: the quick start's sh and js blocks are run as written by
// test/integration/readme/quick-start.test.ts.
import { readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import ts from 'typescript'
import { parse as parseYaml } from 'yaml'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../../server/config.js'
import { REPO, codeBlocks, docFiles, type CodeBlock } from './markdown.js'

const CHECKED_LANGS = new Set(['ts', 'js', 'yaml'])
const blocks = docFiles().flatMap((file) => codeBlocks(file))
const checked = blocks.filter((b) => CHECKED_LANGS.has(b.lang) && b.notChecked === undefined)

const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as {
  name: string
  exports: Record<string, string | { default?: string }>
}

/** `<name>/client` → client/index.ts: the package's entry points, mapped from dist/ back to their sources. */
function packagePaths(): Record<string, string[]> {
  const paths: Record<string, string[]> = {}
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    const built = typeof target === 'string' ? target : target.default
    if (built === undefined || !built.endsWith('.js')) continue
    const source = built.replace(/^\.\/dist\//, './').replace(/\.js$/, '.ts')
    paths[`${pkg.name}${subpath.slice(1)}`] = [join(REPO, source)]
  }
  return paths
}

/** Names the docs' later samples use after an earlier one made them (see the header). */
const SAMPLE_GLOBALS = `
import type { ArbiterClient, Transaction } from '${pkg.name}/client'
import type pg from 'pg'
import type { PoolConnection } from 'mysql2/promise'
declare global {
  /** The client of docs/client.md, "Connecting". */
  const arbiter: ArbiterClient
  /** The connections of docs/client.md, "Local branches". */
  const pgConn: pg.PoolClient
  const myConn: PoolConnection
  /** Imported by the page's first sample ("Connecting"). */
  const createArbiterClient: typeof import('${pkg.name}/client').createArbiterClient
  /** A transaction's callback ("Errors and retries"). */
  const work: (tx: Transaction) => Promise<void>
  /** vitest's, in docs/testing.md's test samples. */
  const it: typeof import('vitest').it
  const afterAll: typeof import('vitest').afterAll
}
export {}
`

function sampleFileName(block: CodeBlock): string {
  const page = basename(block.file, '.md').toLowerCase()
  return join(REPO, 'test', 'integration', `doc-sample-${page}-L${block.line}.${block.lang === 'js' ? 'mjs' : 'mts'}`)
}

/** Type-checks the ts/js samples together in one program; returns the problems, as `file:line: message`. */
function typeCheck(samples: readonly CodeBlock[]): string[] {
  const config = ts.readConfigFile(join(REPO, 'tsconfig.json'), (path) => ts.sys.readFile(path))
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, REPO)
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    allowJs: true,
    checkJs: true,
    paths: packagePaths(),
  }
  const virtual = new Map<string, string>()
  const origin = new Map<string, CodeBlock>()
  const globals = join(REPO, 'test', 'integration', 'doc-sample-globals.d.mts')
  virtual.set(globals, SAMPLE_GLOBALS)
  for (const block of samples) {
    const name = sampleFileName(block)
    // `export {}` keeps a sample without imports a module (its own scope, top-level await).
    virtual.set(name, `${block.body}export {}\n`)
    origin.set(name, block)
  }
  const real = ts.createCompilerHost(options, true)
  const host: ts.CompilerHost = {
    ...real,
    fileExists: (name) => virtual.has(name) || real.fileExists(name),
    readFile: (name) => virtual.get(name) ?? real.readFile(name),
    getSourceFile: (name, language, onError, fresh) => {
      const text = virtual.get(name)
      return text === undefined ? real.getSourceFile(name, language, onError, fresh) : ts.createSourceFile(name, text, language, true)
    },
  }
  const program = ts.createProgram([globals, ...origin.keys()], options, host)
  const problems: string[] = []
  for (const name of [globals, ...origin.keys()]) {
    const source = program.getSourceFile(name)
    if (source === undefined) throw new Error(`the compiler did not load ${name}`)
    const block = origin.get(name)
    for (const d of [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]) {
      const line = d.start === undefined ? 0 : source.getLineAndCharacterOfPosition(d.start).line
      const where = block === undefined ? 'SAMPLE_GLOBALS' : `${block.file}:${block.line + line}`
      problems.push(`${where}: TS${d.code} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`)
    }
  }
  return problems
}

describe('the code samples of README.md and docs/*.md', () => {
  it('there are samples to check (the extraction works)', () => {
    expect(checked.filter((b) => b.lang === 'ts').length).toBeGreaterThanOrEqual(10)
    expect(checked.filter((b) => b.lang === 'yaml').length).toBeGreaterThanOrEqual(4)
  })

  it('every ts and js sample type-checks against the sources', { timeout: 120_000 }, () => {
    expect(typeCheck(checked.filter((b) => b.lang === 'ts' || b.lang === 'js'))).toEqual([])
  })

  it.each(checked.filter((b) => b.lang === 'yaml').map((b) => [`${b.file}:${b.line}`, b] as const))(
    'the config at %s is valid (server/config.ts parseConfig)',
    (_where, block) => {
      expect(() => parseConfig(parseYaml(block.body), { source: `${block.file}:${block.line}` })).not.toThrow()
    },
  )

  it('exceptions are marked with a reason, and few', () => {
    const exceptions = blocks.filter((b) => b.notChecked !== undefined)
    for (const b of exceptions) expect(CHECKED_LANGS.has(b.lang), `${b.file}:${b.line}: not-checked on a ${b.lang || 'plain'} block, which is never checked`).toBe(true)
    expect(exceptions.map((b) => `${b.file}:${b.line}: ${b.notChecked}`).length).toBeLessThanOrEqual(3)
  })
})
