// Issue #21, item 8: `arbiter admin` took 2–3 s per call from the built
// package, mostly loading the whole server (zod, pino, prom-client, the
// database drivers, every proto) before doing one gRPC call. It now loads
// only commander, grpc-js with the Admin proto, and the table renderer.
// Checked twice: statically over the import graph the admin path can reach,
// and at run time over the CommonJS modules a real `admin` call loaded.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { freePort } from '../../helpers/test-arbiter.js'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))
const SERVER_ONLY_PACKAGES = ['zod', 'yaml', 'pino', 'prom-client', 'pg', 'mysql2', 'ioredis', '@grpc/reflection', 'grpc-health-check']

/** Static value imports of a file (type-only imports load nothing), and its dynamic import() targets. */
function importsOf(file: string): { static: string[]; dynamic: string[] } {
  const text = readFileSync(file, 'utf8')
  const statics = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'";]*?from\s+'([^']+)'/gm), ...text.matchAll(/^\s*import\s+'([^']+)'/gm)].map((m) => m[1]!)
  const dynamics = [...text.matchAll(/import\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!)
  return { static: statics, dynamic: dynamics }
}

/** Every module reachable from `entries`: repo files relative to the repo, packages by name. */
function closure(entries: readonly string[], followDynamic: (file: string) => boolean): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>()
  const packages = new Set<string>()
  const queue = [...entries]
  while (queue.length > 0) {
    const file = queue.pop()!
    const rel = relative(REPO, file)
    if (files.has(rel)) continue
    files.add(rel)
    const { static: statics, dynamic } = importsOf(file)
    for (const spec of [...statics, ...(followDynamic(rel) ? dynamic : [])]) {
      if (spec.startsWith('.')) queue.push(resolve(dirname(file), spec).replace(/\.js$/, '.ts'))
      else if (!spec.startsWith('node:')) packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!)
    }
  }
  return { files, packages }
}

describe('arbiter admin start-up', () => {
  it('the admin path never imports server code or server-only packages (static import graph)', () => {
    // main.ts's own dynamic import is `serve`'s; admin-command's are the admin path's.
    const { files, packages } = closure([join(REPO, 'server/main.ts')], (file) => file !== 'server/main.ts')
    const serverFiles = [...files].filter((f) => f.startsWith('server/') && !f.startsWith('server/cli/'))
    expect(serverFiles).toEqual(['server/main.ts'])
    expect([...files].filter((f) => f.startsWith('server/cli/')).sort()).toEqual([
      'server/cli/admin-client.ts',
      'server/cli/admin-command.ts',
      'server/cli/render.ts',
      'server/cli/tls-diagnosis.ts',
      'server/cli/xid-text.ts',
    ])
    expect([...packages].filter((p) => SERVER_ONLY_PACKAGES.includes(p))).toEqual([])
  })

  it('a real admin call loads no database driver, pino, prom-client or zod (run time)', async () => {
    const dead = await freePort()
    const stderr = await new Promise<string>((done) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--import', './test/fixtures/cli/report-loaded.ts', 'server/main.ts', 'admin', '--address', `127.0.0.1:${dead}`, '--timeout', '2000', 'resources'],
        { cwd: REPO, timeout: 30_000 },
        (_error, _stdout, err) => done(err),
      )
    })
    expect(stderr).toContain('ListResources failed: UNAVAILABLE')
    const loaded = JSON.parse(/^loaded:(.*)$/m.exec(stderr)![1]!) as string[]
    const packagesLoaded = new Set(loaded.map((p) => /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(p)?.[1]).filter((p) => p !== undefined))
    expect(packagesLoaded.has('@grpc/grpc-js')).toBe(true) // the check sees CommonJS packages at all
    for (const name of SERVER_ONLY_PACKAGES) expect(packagesLoaded.has(name), `${name} was loaded`).toBe(false)
  })
})
