// Before `vitest run`: make sure the database servers the integration and
// fault tests start are installed, unless the run uses env URLs instead.
// Missing Debian packages are installed when we are root with apt-get;
// otherwise we say exactly what to install (or how to use docker compose).
import { spawnSync } from 'node:child_process'
import { DEBIAN_PACKAGE, describeMissing, findMariadb, findPostgres, findRedis, isMissing, postgresAccount, type Missing } from './binaries.js'
import { ENV_URL, PRETTY, type ServerKind } from './types.js'

/** The env lines that point the tests at docker-compose.yml's servers (keep in sync with it and docs/testing.md). */
export const COMPOSE_EXPORTS = [
  'export ARBITER_TEST_PG_URL=postgres://postgres:arbiter@127.0.0.1:5434/postgres',
  'export ARBITER_TEST_MYSQL_URL=mysql://root:arbiter@127.0.0.1:3308/test',
  'export ARBITER_TEST_REDIS_URL=redis://127.0.0.1:6381',
]

const KINDS: ServerKind[] = ['postgres', 'mariadb', 'redis']

function hasEnvUrl(kind: ServerKind): boolean {
  return (process.env[ENV_URL[kind]] ?? '').trim() !== ''
}

function findMissing(kind: ServerKind): Missing | undefined {
  const found = kind === 'postgres' ? findPostgres() : kind === 'mariadb' ? findMariadb() : findRedis()
  if (isMissing(found)) return found
  // As root, PostgreSQL runs as the `postgres` account, which the Debian package creates.
  if (kind === 'postgres' && process.getuid?.() === 0) {
    if (postgresAccount() === undefined) return { kind, binary: 'the `postgres` user', searched: ['/etc/passwd'] }
  }
  return undefined
}

function hasAptGet(): boolean {
  return spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0
}

function apt(args: string[]): boolean {
  console.log(`ensure-servers: apt-get ${args.join(' ')}`)
  const r = spawnSync('apt-get', args, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  })
  return r.status === 0
}

/** Who needs the servers, for the messages: the tests by default; the demo and the benchmark say so. */
export interface ServersFor {
  /** "the tests", "the demo", … */
  readonly who: string
  /** The command to run again once the servers are there. */
  readonly rerun: string
}

export const FOR_TESTS: ServersFor = { who: 'the integration and fault tests', rerun: 'npm test' }

/** Returns the process exit code: 0 when every needed server can be started (or has an env URL). */
export function ensureServers(purpose: ServersFor = FOR_TESTS): number {
  const needed = KINDS.filter((k) => !hasEnvUrl(k))
  for (const k of KINDS.filter(hasEnvUrl)) console.log(`ensure-servers: ${PRETTY[k]} from ${ENV_URL[k]}`)
  let missing = needed.map(findMissing).filter((m): m is Missing => m !== undefined)
  if (missing.length === 0) {
    if (needed.length > 0) console.log(`ensure-servers: ${needed.map((k) => PRETTY[k]).join(', ')} installed; throwaway servers are started for ${purpose.who}`)
    return 0
  }

  const packages = [...new Set(missing.map((m) => DEBIAN_PACKAGE[m.kind]))]
  for (const m of missing) console.log(`ensure-servers: ${PRETTY[m.kind]}: ${describeMissing(m)}`)
  const root = process.getuid?.() === 0
  if (root && hasAptGet() && process.env.ARBITER_NO_APT !== '1') {
    console.log(`ensure-servers: installing ${packages.join(' ')} for ${purpose.who} (real database servers)`)
    const ok = apt(['update']) && apt(['install', '-y', '--no-install-recommends', ...packages])
    missing = needed.map(findMissing).filter((m): m is Missing => m !== undefined)
    if (ok && missing.length === 0) {
      console.log(`ensure-servers: installed; throwaway servers on free ports are started for ${purpose.who} (the system services are not used)`)
      return 0
    }
    console.error(`ensure-servers: installing ${packages.join(' ')} did not work${ok ? ` (still missing: ${missing.map((m) => m.binary).join(', ')})` : ''}`)
  }

  const lines = [
    '',
    `Real database servers are needed for ${purpose.who}. Either install them:`,
    '',
    `    ${root ? '' : 'sudo '}apt-get install -y --no-install-recommends ${packages.join(' ')}`,
    '',
    `or start them with Docker and point ${purpose.who} at them:`,
    '',
    '    docker compose up -d --wait',
    ...COMPOSE_EXPORTS.map((l) => `    ${l}`),
    '',
    `then run \`${purpose.rerun}\` again.${purpose === FOR_TESTS ? ' (`npm run test:unit` needs no database servers.)' : ''}`,
    '',
  ]
  console.error(lines.join('\n'))
  return 1
}
