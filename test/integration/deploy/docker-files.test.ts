// Issue #23, item 4 ("Run it"): the Dockerfile and docker-compose.yml, read
// as Docker reads them (compose-files.ts, compose-nodes.ts) and checked for
// the facts compose-command-lines.test.ts takes as given when it runs the
// nodes from source with compose's command lines: that the image runs that
// program, and that compose wires each node up the way its config says.
//   - The Dockerfile: the build stage compiles what tsconfig.build.json
//     names; the runtime stage copies dist/ and installs only `dependencies`,
//     which is all the server imports; it runs as an unprivileged USER; its
//     ENTRYPOINT, bin/arbiter.js, beside a dist/ and no node_modules (no tsx)
//     runs dist/server/main.js; .dockerignore keeps out local state but
//     nothing COPY names.
//   - docker-compose.yml: which services each profile starts; for each node,
//     that its mounted config loads and that its published ports, the health
//     check, depends_on, stop_grace_period and data mount agree with it; the
//     cluster's node ids, advertised addresses and shared store.
// Structural checks: no database is used and no node started (the one
// process run is bin/arbiter.js against a stub dist/server/main.js). No
// `docker build` runs here: CI has no Docker engine.
import { execFile } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { REPO, copiesOf, environmentOf, execForm, last, mountsOf, portsOf, servicesFor, urlKey } from './compose-files.js'
import { compose, configOf, healthUrl, mountedConfig, portOf, runtime, service, stages } from './compose-nodes.js'

/** Services that run the image built from ./Dockerfile. */
const nodeServices = Object.entries(compose.services).filter(([, s]) => s.build !== undefined)
const DATABASES = ['postgres', 'mysql', 'redis']
const work = mkdtempSync(join(tmpdir(), 'arbiter-dockerfile-'))

afterAll(() => {
  rmSync(work, { recursive: true, force: true })
})

describe('the Dockerfile', () => {
  it('builds in a stage of its own (npm ci, npm run build) and runs on node:20 slim with production dependencies only', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2)
    const build = stages.find((s) => s.instructions.some((i) => i.keyword === 'RUN' && /\bnpm run build\b/.test(i.args)))!
    expect(build).toBeDefined()
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b(?!.*--omit)/.test(i.args))).toBe(true)
    expect(runtime.from).toMatch(/^node:20[\w.-]*-slim$/)
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /\bnpm ci\b.*--omit=dev/.test(i.args))).toBe(true)
    // The build stage has every folder tsconfig.build.json compiles and the script `npm run build` runs.
    const tsBuild = JSON.parse(readFileSync(join(REPO, 'tsconfig.build.json'), 'utf8')) as { include: string[] }
    const buildScript = (JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { scripts: Record<string, string> }).scripts.build!
    const copied = copiesOf(build).flatMap((c) => c.sources)
    for (const needed of [...tsBuild.include, ...[...buildScript.matchAll(/node (\S+)/g)].map((m) => m[1]!), 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json']) {
      expect(copied, `the build stage copies ${needed}`).toContain(needed)
    }
    // The runtime stage: the build's dist/, proto/, bin/ and package*.json (what package.json "files" ships).
    const copies = copiesOf(runtime)
    expect(copies).toContainEqual({ from: build.name, sources: ['/app/dist'], dest: '/app/dist' })
    for (const dir of ['proto', 'bin']) expect(copies).toContainEqual({ from: undefined, sources: [dir], dest: `/app/${dir}` })
    expect(copies.some((c) => c.sources.includes('package.json') && c.sources.includes('package-lock.json'))).toBe(true)
  })

  it('the server needs nothing from devDependencies at run time (npm ci --omit=dev leaves them out)', () => {
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies: Record<string, string> }
    const wanted = new Map<string, string>()
    const walk = (dir: string): void => {
      for (const entry of readdirSync(dir)) {
        const path = join(dir, entry)
        if (statSync(path).isDirectory()) walk(path)
        else if (path.endsWith('.ts') && !path.endsWith('.d.ts')) {
          const text = readFileSync(path, 'utf8')
          // Value imports only: `import type` is erased by the build.
          const found = [...text.matchAll(/^\s*(?:import|export)\s+(?!type\b)[^'"]*?\bfrom\s+'([^'.][^']*)'/gm), ...text.matchAll(/\bimport\('([^'.][^']*)'\)/g)]
          for (const m of found) {
            const spec = m[1]!
            if (spec.startsWith('node:')) continue
            wanted.set(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!, path.slice(REPO.length))
          }
        }
      }
    }
    for (const dir of ['server', 'adapters', 'client', 'proto']) walk(join(REPO, dir))
    expect(wanted.size).toBeGreaterThan(10)
    for (const [name, file] of wanted) expect(pkg.dependencies, `${name} (imported by ${file}) is a dependency`).toHaveProperty([name])
  })

  it('runs as an unprivileged user; its ENTRYPOINT runs the arbiter bin, which loads the build without tsx', async () => {
    const user = last(runtime, 'USER')?.args
    expect(user).toBeDefined()
    expect(user!.split(':')[0]).not.toMatch(/^(root|0)$/)
    const [node, launcher] = execForm(last(runtime, 'ENTRYPOINT')!.args, 'ENTRYPOINT')
    expect([node, launcher]).toEqual(['node', '/app/bin/arbiter.js'])
    const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { bin: Record<string, string> }
    expect(pkg.bin.arbiter).toBe('./bin/arbiter.js')
    // bin/arbiter.js with package.json beside a dist/server/main.js and no node_modules (no tsx), as in the image: it runs the build.
    const image = join(work, 'image')
    mkdirSync(join(image, 'bin'), { recursive: true })
    mkdirSync(join(image, 'dist/server'), { recursive: true })
    for (const f of ['bin/arbiter.js', 'package.json']) writeFileSync(join(image, f), readFileSync(join(REPO, f)))
    writeFileSync(join(image, 'dist/server/main.js'), 'console.log(`built main, args ${process.argv.slice(2).join(" ")}`)\n')
    const ran = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [join(image, 'bin/arbiter.js'), 'serve', '--config', 'x.yaml'], { cwd: image, timeout: 20_000 }, (error, stdout, stderr) =>
        error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout),
      ),
    )
    expect(ran).toBe('built main, args serve --config x.yaml\n')
    // …and the build puts server/main.ts there (dist/server/main.js), which the runtime stage copies.
    const tsconfig = JSON.parse(readFileSync(join(REPO, 'tsconfig.json'), 'utf8')) as { compilerOptions: { outDir: string; rootDir: string } }
    expect(tsconfig.compilerOptions).toMatchObject({ outDir: 'dist', rootDir: '.' })
    expect(existsSync(join(REPO, 'server/main.ts'))).toBe(true)
  })

  it('the build context (.dockerignore) keeps out local state and keeps in everything COPY names', () => {
    const ignored = readFileSync(join(REPO, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'))
    for (const kept of ['.git', 'node_modules', 'dist', '.tmp', 'test', 'arbiter-data']) expect(ignored).toContain(kept)
    for (const c of stages.flatMap(copiesOf).filter((c) => c.from === undefined)) {
      for (const source of c.sources) {
        const hit = ignored.find((p) => !p.includes('*') && (source === p || source.startsWith(`${p}/`)))
        expect(hit, `COPY ${source} is not in .dockerignore`).toBeUndefined()
      }
    }
  })
})

describe('docker-compose.yml', () => {
  it('without a profile starts exactly the three databases (README and the tests rely on it)', () => {
    expect(servicesFor(compose, []).sort()).toEqual([...DATABASES].sort())
    expect(servicesFor(compose, ['single']).sort()).toEqual([...DATABASES, 'arbiter'].sort())
    expect(servicesFor(compose, ['cluster']).sort()).toEqual([...DATABASES, 'arbiter-1', 'arbiter-2', 'arbiter-3', 'store'].sort())
    for (const [name, s] of Object.entries(compose.services)) {
      for (const v of mountsOf(s).filter((m) => m.kind === 'volume')) expect(compose.volumes, `${name}: volume ${v.source} is declared`).toHaveProperty([v.source!])
    }
  })

  it.each(nodeServices.map(([name]) => name))(
    '%s: its config exists and loads; ports, health check, dependencies and stop grace agree with it',
    (name) => {
      const s = service(name)
      const { path } = mountedConfig(name)
      expect(path.startsWith(join(REPO, 'deploy/compose/'))).toBe(true)
      const config = configOf(name)
      // Published ports: exactly the gRPC and metrics ports the config listens on, on the host's loopback only
      // (the config lifts the loopback rule: neither TLS nor tokens).
      const listen = portOf(config.listen)
      const metrics = portOf(config.metrics.listen)
      const ports = portsOf(s)
      expect(ports.map((p) => p.containerPort).sort()).toEqual([listen, metrics].sort())
      for (const p of ports) expect(p.hostIp).toBe('127.0.0.1')
      const expose = last(runtime, 'EXPOSE')!.args.split(/\s+/).map(Number)
      expect(expose).toEqual(expect.arrayContaining([listen, metrics]))
      // The image's health check asks the node's own metrics port for /readyz; compose keeps it.
      expect(healthUrl.pathname).toBe('/readyz')
      expect(Number(healthUrl.port)).toBe(metrics)
      expect(['0.0.0.0', '127.0.0.1']).toContain(config.metrics.listen.slice(0, config.metrics.listen.lastIndexOf(':')))
      expect(s.healthcheck?.test, 'compose leaves the image HEALTHCHECK in place').toBeUndefined()
      // It starts once every other service of its profile is healthy (each has a health check to be).
      const profile = s.profiles![0]!
      const others = servicesFor(compose, [profile]).filter((o) => service(o).build === undefined)
      expect(Object.keys(s.depends_on ?? {}).sort()).toEqual(others.sort())
      for (const o of others) {
        expect((s.depends_on as Record<string, { condition?: string }>)[o]!.condition).toBe('service_healthy')
        expect(service(o).healthcheck?.test, `${o} has a health check`).toBeDefined()
      }
      // docker stop waits longer than the node's own graceful stop before it kills.
      expect(Number(/^(\d+)s$/.exec(s.stop_grace_period ?? '')?.[1]) * 1000).toBeGreaterThan(config.shutdownGraceMs)
      // dataDir is a mount: a volume (file store: the log outlives the container) or a tmpfs (postgres store: only the lock).
      const mount = mountsOf(s).find((m) => m.target === config.dataDir)
      expect(mount?.kind).toBe(config.log.store === 'file' ? 'volume' : 'tmpfs')
    },
  )

  it('cluster: distinct node ids, each advertised at its service name and gRPC port, one shared postgres store', () => {
    const nodes = nodeServices.filter(([, s]) => s.profiles?.includes('cluster')).map(([name]) => name)
    expect(nodes).toHaveLength(3)
    const configs = nodes.map(configOf)
    expect(new Set(configs.map((c) => c.nodeId)).size).toBe(3)
    expect(new Set(nodes.map((n) => mountedConfig(n).path)).size).toBe(1)
    nodes.forEach((n, i) => {
      expect(configs[i]!.cluster.advertiseAddress).toBe(`${n}:${portOf(configs[i]!.listen)}`)
      expect(configs[i]!.log.store).toBe('postgres')
    })
    const stores = nodes.map((n) => environmentOf(service(n))[configs[0]!.log.urlEnv!]!)
    expect(new Set(stores).size).toBe(1)
    expect(urlKey(stores[0]!).service).toBe('store')
  })
})
