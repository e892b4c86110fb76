// Reading docker-compose.yml and the Dockerfile the way Docker does, for the
// deploy tests (docker-files.test.ts, compose-command-lines.test.ts, and
// compose-nodes.ts, which both share), and the one change
// compose-command-lines.test.ts makes to what they run: the names of
// compose's network and file system become the test's servers, ports and
// folders (substitute()).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parse as parseYaml } from 'yaml'

export const REPO = fileURLToPath(new URL('../../..', import.meta.url))

// --- docker-compose.yml -----------------------------------------------------

export interface ComposeService {
  readonly profiles?: string[]
  readonly build?: unknown
  readonly image?: string
  readonly entrypoint?: unknown
  readonly command?: string[] | string
  readonly environment?: Record<string, string | number | boolean | null> | string[]
  readonly volumes?: string[]
  readonly tmpfs?: string[] | string
  readonly ports?: string[]
  readonly depends_on?: Record<string, { condition?: string }> | string[]
  readonly healthcheck?: { test?: string[] | string; disable?: boolean }
  readonly stop_grace_period?: string
}

export interface ComposeFile {
  readonly services: Record<string, ComposeService>
  readonly volumes?: Record<string, unknown>
}

/** docker-compose.yml with its anchors and merge keys (`<<:`) resolved, as Compose reads it. */
export function readCompose(): ComposeFile {
  return parseYaml(readFileSync(join(REPO, 'docker-compose.yml'), 'utf8'), { merge: true }) as ComposeFile
}

/** Services started with these profiles enabled: those without `profiles`, and those naming one of them. */
export function servicesFor(compose: ComposeFile, profiles: readonly string[]): string[] {
  return Object.entries(compose.services)
    .filter(([, s]) => s.profiles === undefined || s.profiles.some((p) => profiles.includes(p)))
    .map(([name]) => name)
}

/** The service's environment as Compose hands it to the container (a list `K=V` or a mapping). */
export function environmentOf(service: ComposeService): Record<string, string> {
  const env = service.environment ?? {}
  if (Array.isArray(env)) {
    return Object.fromEntries(
      env.map((line) => {
        const eq = line.indexOf('=')
        if (eq < 0) throw new Error(`environment entry ${line} takes its value from the host: this test cannot mirror it`)
        return [line.slice(0, eq), line.slice(eq + 1)]
      }),
    )
  }
  return Object.fromEntries(Object.entries(env).map(([k, v]) => [k, v === null ? '' : String(v)]))
}

export interface Mount {
  /** What is mounted: a host path (./…) or a named volume; undefined for a tmpfs. */
  readonly source: string | undefined
  readonly target: string
  readonly kind: 'bind' | 'volume' | 'tmpfs'
}

/** The service's mounts, from the short syntax (`SOURCE:TARGET[:MODE]`) and `tmpfs`. */
export function mountsOf(service: ComposeService): Mount[] {
  const mounts: Mount[] = (service.volumes ?? []).map((spec) => {
    const [source, target] = spec.split(':')
    if (source === undefined || target === undefined) throw new Error(`volume ${spec}: expected SOURCE:TARGET[:MODE]`)
    return { source, target, kind: /^[./~]/.test(source) ? 'bind' : 'volume' }
  })
  const tmpfs = service.tmpfs === undefined ? [] : Array.isArray(service.tmpfs) ? service.tmpfs : [service.tmpfs]
  for (const spec of tmpfs) mounts.push({ source: undefined, target: spec.split(':')[0]!, kind: 'tmpfs' })
  return mounts
}

export interface PortMapping {
  readonly hostIp: string | undefined
  readonly hostPort: number
  readonly containerPort: number
}

/** `[HOST_IP:]HOST_PORT:CONTAINER_PORT` entries. */
export function portsOf(service: ComposeService): PortMapping[] {
  return (service.ports ?? []).map((spec) => {
    const parts = String(spec).split(':')
    if (parts.length < 2 || parts.length > 3) throw new Error(`port ${spec}: expected [HOST_IP:]HOST_PORT:CONTAINER_PORT`)
    const containerPort = Number(parts.pop())
    const hostPort = Number(parts.pop())
    return { hostIp: parts[0], hostPort, containerPort }
  })
}

// --- Dockerfile ---------------------------------------------------------------

export interface Instruction {
  readonly keyword: string
  readonly args: string
}

export interface Stage {
  readonly from: string
  readonly name: string | undefined
  readonly instructions: Instruction[]
}

/** The Dockerfile's stages: its instructions (continuation lines joined, comments dropped), split at each FROM. */
export function readDockerfile(): Stage[] {
  const lines = readFileSync(join(REPO, 'Dockerfile'), 'utf8').split('\n')
  const instructions: Instruction[] = []
  let pending = ''
  for (const line of lines) {
    if (/^\s*#/.test(line) || (pending === '' && line.trim() === '')) continue
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `
      continue
    }
    const whole = (pending + line).trim()
    pending = ''
    const space = whole.search(/\s/)
    instructions.push({ keyword: whole.slice(0, space).toUpperCase(), args: whole.slice(space + 1).trim() })
  }
  const stages: Stage[] = []
  for (const i of instructions) {
    if (i.keyword === 'FROM') {
      const [from, as, name] = i.args.split(/\s+/)
      stages.push({ from: from!, name: as?.toUpperCase() === 'AS' ? name : undefined, instructions: [] })
    } else {
      if (stages.length === 0) throw new Error(`Dockerfile: ${i.keyword} before FROM`)
      stages.at(-1)!.instructions.push(i)
    }
  }
  return stages
}

/** The last instruction with this keyword in the stage. */
export function last(stage: Stage, keyword: string): Instruction | undefined {
  return stage.instructions.filter((i) => i.keyword === keyword).at(-1)
}

/** ENTRYPOINT, CMD or HEALTHCHECK CMD in exec form (a JSON array); the shell form is not run the same way. */
export function execForm(args: string, what: string): string[] {
  const parsed: unknown = JSON.parse(args)
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) throw new Error(`${what}: expected the exec form, a JSON array of strings`)
  return parsed
}

/** HEALTHCHECK [OPTIONS] CMD [...]: its options and command. */
export function healthcheckOf(stage: Stage): { options: Record<string, string>; command: string[] } {
  const args = last(stage, 'HEALTHCHECK')?.args
  if (args === undefined) throw new Error('the image has no HEALTHCHECK')
  const at = args.search(/(^|\s)CMD\s/)
  const options = Object.fromEntries([...args.slice(0, at).matchAll(/--([\w-]+)=(\S+)/g)].map((m) => [m[1]!, m[2]!]))
  return { options, command: execForm(args.slice(at).trim().replace(/^CMD\s+/, ''), 'HEALTHCHECK') }
}

/** ENV KEY=VALUE … of the stage (the form with `=`). */
export function envOf(stage: Stage): Record<string, string> {
  const env: Record<string, string> = {}
  for (const i of stage.instructions.filter((x) => x.keyword === 'ENV')) {
    for (const m of i.args.matchAll(/(\w+)=("[^"]*"|\S+)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '')
  }
  return env
}

/** COPY [--from=STAGE] SRC… DEST, DEST made absolute against the WORKDIR in force. */
export function copiesOf(stage: Stage): { from: string | undefined; sources: string[]; dest: string }[] {
  let workdir = '/'
  const out: { from: string | undefined; sources: string[]; dest: string }[] = []
  for (const i of stage.instructions) {
    if (i.keyword === 'WORKDIR') workdir = i.args.startsWith('/') ? i.args : join(workdir, i.args)
    if (i.keyword !== 'COPY') continue
    const words = i.args.split(/\s+/)
    const from = words.find((w) => w.startsWith('--from='))?.slice('--from='.length)
    const paths = words.filter((w) => !w.startsWith('--'))
    const dest = paths.pop()!
    out.push({ from, sources: paths, dest: dest.startsWith('/') ? dest : join(workdir, dest) })
  }
  return out
}

// --- what the test stands in for --------------------------------------------

/** The test's replacements for what compose names (filled in by the test before it substitutes). */
export interface StandIns {
  /** Compose services whose names may appear in addresses and URLs. */
  readonly services: ReadonlySet<string>
  /** `service:port` (as containers reach each other) → a loopback host:port of the test. */
  readonly addresses: ReadonlyMap<string, string>
  /** `service:port/database` of a URL → the URL of the test's server and database standing in for it. */
  readonly urls: ReadonlyMap<string, string>
  /** Per service: a path inside its container (a mount's target) → the test's file or folder. */
  readonly mounts: ReadonlyMap<string, ReadonlyMap<string, string>>
}

const URL_SOURCE = String.raw`\b(?:postgres|postgresql|mysql|mariadb|redis|rediss):\/\/[^\s"'` + '`' + String.raw`]+`
const HOST_PORT_SOURCE = String.raw`(?<![\w.@-])([A-Za-z0-9][\w.-]*):(\d{1,5})\b`
/** A URL (whole), or a bare host:port: one pass, so nothing replaced is looked at again. */
const TOKEN = (): RegExp => new RegExp(`(${URL_SOURCE})|${HOST_PORT_SOURCE}`, 'g')
/** Paths inside the image that only exist there. */
const CONTAINER_PATHS = ['/etc/arbiter', '/var/lib/arbiter', '/app/', '/run/secrets']

/** The key of a URL in StandIns.urls: `service:port/database` (no credentials, no query). */
export function urlKey(url: string): { key: string; service: string } {
  const u = new URL(url)
  return { key: `${u.hostname}:${u.port}${u.pathname === '/' ? '' : u.pathname}`, service: u.hostname }
}

/** Every URL in the text that names a compose service (what needs a stand-in). */
export function composeUrls(text: string, services: ReadonlySet<string>): string[] {
  return [...text.matchAll(TOKEN())].map((m) => m[1]).filter((u): u is string => u !== undefined && services.has(new URL(u).hostname))
}

/**
 * The only change the test makes to what compose runs (a command line
 * argument, a variable's value, a config file's text), for the node of
 * service `self`:
 *   - a URL naming a compose service → its stand-in (the test's server,
 *     credentials and database; the query string kept);
 *   - `service:port` → the stand-in address; the container's own addresses
 *     (`0.0.0.0:port`, `127.0.0.1:port`, `localhost:port`) → self's;
 *   - a mount's target path → the test's file or folder.
 * Anything that names a compose service or a container path without a
 * stand-in throws: the compose file gained something this test does not
 * mirror.
 */
export function substitute(text: string, self: string, standIns: StandIns): string {
  let out = text.replace(TOKEN(), (whole, url: string | undefined, host: string | undefined, port: string | undefined) => {
    if (url !== undefined) {
      const { key, service } = urlKey(url)
      if (!standIns.services.has(service)) return url
      const standIn = standIns.urls.get(key)
      if (standIn === undefined) throw new Error(`${url.replace(/:[^:@/]*@/, ':***@')} names compose service ${service} (${key}), which this test has no stand-in for`)
      return standIn + new URL(url).search
    }
    const own = ['0.0.0.0', '127.0.0.1', 'localhost'].includes(host!)
    if (!own && !standIns.services.has(host!)) return whole
    const key = `${own ? self : host}:${port}`
    const standIn = standIns.addresses.get(key)
    if (standIn === undefined) throw new Error(`${whole} (${key} in compose's network) has no stand-in in this test`)
    return standIn
  })
  for (const [target, path] of [...(standIns.mounts.get(self) ?? [])].sort((a, b) => b[0].length - a[0].length)) {
    const escaped = target.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')
    out = out.replace(new RegExp(String.raw`(?<![\w./-])${escaped}(?=$|[/\s"',\]}])`, 'gm'), path)
  }
  // What is left must name nothing of compose's: no service in a URL or address, no container path.
  for (const m of out.matchAll(TOKEN())) {
    const host = m[1] !== undefined ? new URL(m[1]).hostname : m[2]!
    if (standIns.services.has(host)) throw new Error(`${m[0]} still names compose service ${host}`)
  }
  for (const prefix of CONTAINER_PATHS) {
    if (out.includes(prefix)) throw new Error(`${JSON.stringify(text)} names the container path ${prefix}, which this test does not map`)
  }
  return out
}
