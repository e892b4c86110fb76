// The arbiter nodes of docker-compose.yml (the services built from
// ./Dockerfile) as both deploy tests see them: the image's runtime stage, the
// command line each container runs, the config file it mounts and what it
// loads to, its ports, and the image's HEALTHCHECK. docker-files.test.ts
// checks these against each other; compose-command-lines.test.ts runs them.
// Read once, at import, from the repository's own files (compose-files.ts
// parses them as Docker does).
import { join } from 'node:path'
import { loadConfig, type ArbiterConfig } from '../../../server/config.js'
import { REPO, envOf, environmentOf, execForm, healthcheckOf, last, mountsOf, readCompose, readDockerfile, type ComposeService } from './compose-files.js'

export const compose = readCompose()
export const stages = readDockerfile()
/** The image's stage: the Dockerfile's last. */
export const runtime = stages.at(-1)!

/** The service of this name in docker-compose.yml (throws if there is none). */
export function service(name: string): ComposeService {
  const s = compose.services[name]
  if (s === undefined) throw new Error(`docker-compose.yml has no service ${name}`)
  return s
}

/** The command line the container runs: the image's ENTRYPOINT, then the service's command or else the image's CMD. */
export function containerCommand(s: ComposeService): string[] {
  if (s.entrypoint !== undefined) throw new Error('a service overrides the image ENTRYPOINT: this test runs the image one')
  const cmd = s.command ?? execForm(last(runtime, 'CMD')!.args, 'CMD')
  if (!Array.isArray(cmd)) throw new Error('the service command is a string (run through a shell): use the exec form, a list')
  return [...execForm(last(runtime, 'ENTRYPOINT')!.args, 'ENTRYPOINT'), ...cmd]
}

/** The config file the command line names, on the host (the bind mount's source). */
export function mountedConfig(name: string): { path: string; target: string } {
  const s = service(name)
  const command = containerCommand(s)
  const target = command[command.indexOf('--config') + 1]
  const mount = mountsOf(s).find((m) => m.kind === 'bind' && m.target === target)
  if (target === undefined || mount === undefined) throw new Error(`${name}: the command names no mounted --config file`)
  return { path: join(REPO, mount.source!), target }
}

/** What compose hands the node (the URLs still naming compose's services): enough for the config to load. */
export function configOf(name: string): ArbiterConfig {
  return loadConfig(mountedConfig(name).path, { ...envOf(runtime), ...environmentOf(service(name)) })
}

/** The port of a `host:port` listen address. */
export function portOf(hostPort: string): number {
  return Number(hostPort.slice(hostPort.lastIndexOf(':') + 1))
}

/** The image's HEALTHCHECK: its URL (the container's own address) and options. */
export const health = healthcheckOf(runtime)
export const healthUrl = new URL(/http:\/\/[^'"\s]+/.exec(health.command.join(' '))![0])
