// Finds the server binaries the harness runs. Shared by the harness and by
// ensure-servers (which installs the Debian packages when they are missing).
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import type { ServerKind } from './types.js'

/** Debian package that provides each kind of server. */
export const DEBIAN_PACKAGE: Readonly<Record<ServerKind, string>> = {
  postgres: 'postgresql',
  mariadb: 'mariadb-server',
  redis: 'redis-server',
}

export interface PostgresBinaries { initdb: string; postgres: string }
export interface MariadbBinaries { mariadbd: string; installDb: string }
export interface RedisBinaries { redisServer: string }

/** A binary that is missing: which one, and where it was looked for. */
export interface Missing { kind: ServerKind; binary: string; searched: string[] }

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK)
    return fs.statSync(file).isFile()
  } catch {
    return false
  }
}

function pathDirs(): string[] {
  return (process.env.PATH ?? '').split(path.delimiter).filter((d) => d !== '')
}

function unique(dirs: string[]): string[] {
  return [...new Set(dirs)]
}

function findIn(dirs: string[], names: string[]): string | undefined {
  for (const dir of dirs) {
    for (const name of names) {
      const file = path.join(dir, name)
      if (isExecutable(file)) return file
    }
  }
  return undefined
}

/** /usr/lib/postgresql/<version>/bin, highest version first. */
function debianPostgresDirs(): string[] {
  const root = '/usr/lib/postgresql'
  let versions: string[]
  try {
    versions = fs.readdirSync(root)
  } catch {
    return []
  }
  return versions
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => path.join(root, v, 'bin'))
}

export function findPostgres(binDir?: string): PostgresBinaries | Missing {
  const dirs = binDir !== undefined ? [binDir] : unique([...debianPostgresDirs(), ...pathDirs(), '/usr/local/bin'])
  // initdb and postgres must come from the same installation.
  for (const dir of dirs) {
    const initdb = findIn([dir], ['initdb'])
    const postgres = findIn([dir], ['postgres'])
    if (initdb !== undefined && postgres !== undefined) return { initdb, postgres }
  }
  const binary = findIn(dirs, ['initdb']) === undefined ? 'initdb' : 'postgres'
  return { kind: 'postgres', binary, searched: dirs }
}

export function findMariadb(binDir?: string): MariadbBinaries | Missing {
  const serverDirs = binDir !== undefined ? [binDir] : unique([...pathDirs(), '/usr/sbin', '/usr/local/sbin', '/usr/bin', '/usr/libexec'])
  const toolDirs = binDir !== undefined ? [binDir] : unique([...pathDirs(), '/usr/bin', '/usr/local/bin', '/usr/sbin'])
  const mariadbd = findIn(serverDirs, ['mariadbd'])
  if (mariadbd === undefined) return { kind: 'mariadb', binary: 'mariadbd', searched: serverDirs }
  const installDb = findIn(toolDirs, ['mariadb-install-db', 'mysql_install_db'])
  if (installDb === undefined) return { kind: 'mariadb', binary: 'mariadb-install-db', searched: toolDirs }
  return { mariadbd, installDb }
}

export function findRedis(binDir?: string): RedisBinaries | Missing {
  const dirs = binDir !== undefined ? [binDir] : unique([...pathDirs(), '/usr/bin', '/usr/local/bin', '/usr/sbin'])
  const redisServer = findIn(dirs, ['redis-server'])
  if (redisServer === undefined) return { kind: 'redis', binary: 'redis-server', searched: dirs }
  return { redisServer }
}

export function isMissing(found: object): found is Missing {
  return 'searched' in found
}

/** Human sentence for a missing binary, with the Debian package that provides it. */
export function describeMissing(m: Missing): string {
  return (
    `${m.binary} not found (looked in ${m.searched.join(', ')}); ` +
    `install the Debian package '${DEBIAN_PACKAGE[m.kind]}' (apt-get install -y ${DEBIAN_PACKAGE[m.kind]}), ` +
    `or point the tests at a running server with the env URL (see docs/testing.md)`
  )
}

/** uid and gid of the `postgres` account (PostgreSQL refuses to run as root, so root runs it as this user). */
export function postgresAccount(): { uid: number; gid: number } | undefined {
  try {
    for (const line of fs.readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':')
      if (f[0] === 'postgres' && f[2] !== undefined && f[3] !== undefined) return { uid: Number(f[2]), gid: Number(f[3]) }
    }
  } catch {
    // fall through to id(1), which also sees NSS accounts
  }
  try {
    const id = (flag: string): number => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
    return { uid: id('-u'), gid: id('-g') }
  } catch {
    return undefined
  }
}
