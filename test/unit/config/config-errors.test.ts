// Issue #21, items 2 and 3: every config error looks alike. Table-driven
// over bad configs (files and ARBITER_* variables), through the function
// `arbiter serve` uses before it exits: exit code 2, and one line per
// problem naming the path (or the variable), what was expected and what
// was given. serve-exit-codes.test.ts runs a few of them as real processes.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkServeConfig } from '../../../server/cli/serve-command.js'
import { ConfigError, loadConfig } from '../../../server/config.js'
import { editDistance, nearestKey } from '../../../server/config/nearest-key.js'
import { makeCertificates } from '../../integration/production/helpers.js'

const dir = mkdtempSync(join(tmpdir(), 'arbiter-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const PG = 'postgres://app:s3cret-pw@127.0.0.1:5434/bank'
const GOOD_RESOURCE = `  - { name: pg, kind: postgres, url: "${PG}" }`
const PEM_KEY_LOOKALIKE = join(dir, 'not-a-key.pem')
writeFileSync(PEM_KEY_LOOKALIKE, 'hello\n')
const SHORT_TOKEN_FILE = join(dir, 'short-token')
writeFileSync(SHORT_TOKEN_FILE, 'abc\n')
const TLS = makeCertificates()
afterAll(() => rmSync(TLS.dir, { recursive: true, force: true }))

interface Case {
  readonly name: string
  readonly yaml: string
  readonly env?: Record<string, string>
  /** The path, or "VARIABLE (path)". */
  readonly where: string
  readonly expected: RegExp
  readonly given: RegExp
}

const CASES: readonly Case[] = [
  // Item 2: unknown keys, with the nearest known one.
  { name: 'a misspelt top-level key', yaml: `resorces:\n${GOOD_RESOURCE}`, where: 'resorces', expected: /did you mean "resources"/, given: /unknown key "resorces"/ },
  { name: 'a misspelt nested key', yaml: 'recovery: { graceMS: 5000 }', where: 'recovery.graceMS', expected: /did you mean "graceMs"/, given: /"graceMS"/ },
  { name: 'snake_case in a list entry', yaml: `resources:\n  - { name: pg, kind: postgres, url: "${PG}", pool_size: 3 }`, where: 'resources[0].pool_size', expected: /did you mean "poolSize"/, given: /"pool_size"/ },
  { name: 'an unknown key with nothing near', yaml: 'limits: { zzz: 1 }', where: 'limits.zzz', expected: /known keys of limits: maxActiveTransactions, .*maxParams/, given: /"zzz"/ },
  { name: 'an unknown variable', yaml: '', env: { ARBITER_RECOVERY__GRACEMS: '5000' }, where: 'ARBITER_RECOVERY__GRACEMS (recovery.gracems)', expected: /did you mean ARBITER_RECOVERY__GRACE_MS\?/, given: /ARBITER_RECOVERY__GRACEMS, which Arbiter does not know/ },
  { name: 'an unknown top-level variable', yaml: '', env: { ARBITER_LISTN: '127.0.0.1:1' }, where: 'ARBITER_LISTN (listn)', expected: /did you mean ARBITER_LISTEN\?/, given: /ARBITER_LISTN/ },
  // Item 3: values, from the file and from variables.
  { name: 'a pool size in words', yaml: `resources:\n  - { name: pg, kind: postgres, url: "${PG}", poolSize: ten }`, where: 'resources[0].poolSize', expected: /^a whole number from 1 to 1000$/, given: /^"ten"$/ },
  { name: 'a timeout past what a timer can wait (it would fire at once)', yaml: 'transactions: { defaultTimeoutMs: 3000000000 }', where: 'transactions.defaultTimeoutMs', expected: /^a whole number from 1 to 2147483647$/, given: /^3000000000$/ },
  { name: 'a recovery interval past what a timer can wait', yaml: 'recovery: { intervalMs: 3000000000 }', where: 'recovery.intervalMs', expected: /^a whole number from 50 to 2147483647$/, given: /^3000000000$/ },
  { name: 'a pool size of 0', yaml: `resources:\n  - { name: pg, kind: postgres, url: "${PG}", poolSize: 0 }`, where: 'resources[0].poolSize', expected: /^a whole number from 1 to 1000$/, given: /^0$/ },
  { name: 'a fraction as a count', yaml: 'limits: { maxParams: 2.5 }', where: 'limits.maxParams', expected: /^a whole number of at least 0$/, given: /^2\.5$/ },
  // Found by review: a variable that set something below the bad field, or the field's parent, was not named.
  { name: 'a variable that indexes into a list the file does not have', yaml: '', env: { ARBITER_AUTH__TOKENS__0__TOKEN: 'abc' }, where: 'ARBITER_AUTH__TOKENS__0__TOKEN (auth.tokens)', expected: /list/, given: /mapping/ },
  { name: 'a variable that makes a section the file does not have', yaml: '', env: { ARBITER_TLS__REQUIRE_CLIENT_CERT: 'true' }, where: 'ARBITER_TLS__REQUIRE_CLIENT_CERT (tls.certFile)', expected: /.+/, given: /nothing/ },
  // Found by hostile testing: holes at [1] and [2] were reported too, each as "got nothing".
  { name: 'a variable that indexes past the list of the file', yaml: `resources:\n${GOOD_RESOURCE}`, env: { ARBITER_RESOURCES__3__URL: 'postgres://h/db' }, where: 'ARBITER_RESOURCES__3__URL (resources)', expected: /the index of an entry resources has in the file \(0 to 0\): a variable changes an entry, it cannot add one/, given: /^"3"$/ },
  { name: 'a number from a variable', yaml: '', env: { ARBITER_LIMITS__MAX_PARAMS: 'lots' }, where: 'ARBITER_LIMITS__MAX_PARAMS (limits.maxParams)', expected: /whole number/, given: /^"lots"$/ },
  { name: 'an empty variable for a number', yaml: '', env: { ARBITER_SHUTDOWN_GRACE_MS: '' }, where: 'ARBITER_SHUTDOWN_GRACE_MS (shutdownGraceMs)', expected: /whole number/, given: /^""$/ },
  { name: 'a flag that is neither', yaml: 'allowInsecureNonLoopback: maybe', where: 'allowInsecureNonLoopback', expected: /true or false/, given: /"maybe"/ },
  { name: 'a misspelt kind', yaml: `resources:\n  - { name: pg, kind: postgress, url: "${PG}" }`, where: 'resources[0].kind', expected: /one of postgres, mysql, redis \(did you mean postgres\?\)/, given: /"postgress"/ },
  // Found by a newcomer: MariaDB's own name for the kind, and a port alone as the listen address.
  { name: 'kind mariadb', yaml: `resources:\n  - { name: m, kind: mariadb, url: "mysql://u@h/db" }`, where: 'resources[0].kind', expected: /one of postgres, mysql, redis \(did you mean mysql\?\)/, given: /"mariadb"/ },
  { name: 'a port alone as listen', yaml: 'listen: 50051', where: 'listen', expected: /^a "host:port" string, e\.g\. 127\.0\.0\.1:50051/, given: /^50051$/ },
  { name: 'a log level from a variable', yaml: '', env: { ARBITER_LOG_LEVEL: 'loud' }, where: 'ARBITER_LOG_LEVEL (logLevel)', expected: /one of fatal, error, warn, info/, given: /"loud"/ },
  { name: 'listen that is not host:port', yaml: 'listen: nonsense', where: 'listen', expected: /host:port/, given: /"nonsense"/ },
  { name: 'listen with a port past 65535', yaml: 'listen: 127.0.0.1:70000', where: 'listen', expected: /host:port/, given: /"127\.0\.0\.1:70000"/ },
  { name: 'metrics.listen that is not host:port', yaml: 'metrics: { listen: "9464" }', where: 'metrics.listen', expected: /host:port.*or '' to turn the metrics port off/, given: /"9464"/ },
  { name: 'a non-loopback listen without TLS or tokens', yaml: 'listen: 0.0.0.0:50051', where: 'listen', expected: /loopback address .*allowInsecureNonLoopback/, given: /"0\.0\.0\.0:50051", not a loopback address/ },
  { name: 'a node id with a space', yaml: 'nodeId: "node 1"', where: 'nodeId', expected: /1–32 letters, digits/, given: /"node 1"/ },
  { name: 'a resource with two URLs', yaml: `resources:\n  - { name: pg, kind: postgres, url: "${PG}", urlEnv: PG_URL }`, where: 'resources[0]', expected: /exactly one of url, urlEnv or urlFile/, given: /keys name, kind, url, urlEnv/ },
  { name: 'two resources with one name', yaml: `resources:\n${GOOD_RESOURCE}\n${GOOD_RESOURCE}`, where: 'resources[1].name', expected: /no other resource has \(resources\[0\] is "pg" too\)/, given: /"pg"/ },
  { name: 'the postgres store without a URL', yaml: 'log: { store: postgres }', where: 'log', expected: /exactly one of url, urlEnv or urlFile/, given: /store/ },
  { name: 'a store URL with the file store', yaml: `log: { url: "${PG}" }`, where: 'log', expected: /store: postgres to use url/, given: /url/ },
  { name: 'a store URL that is not PostgreSQL', yaml: 'nodeId: a\nlog: { store: postgres, url: "mysql://x@127.0.0.1/db" }', where: 'log.url', expected: /a postgres URL/, given: /mysql/ },
  { name: 'a cluster node without a nodeId of its own', yaml: `log: { store: postgres, url: "${PG}" }`, where: 'nodeId', expected: /a nodeId of its own for each node/, given: /none \(the default "arbiter-1" is for a node on its own\)/ },
  { name: 'an OTLP endpoint that is not a URL', yaml: 'tracing: { otlpEndpoint: "collector:4318" }', where: 'tracing.otlpEndpoint', expected: /an http\(s\) URL/, given: /"collector:4318"/ },
  { name: 'a sampling ratio above 1', yaml: 'tracing: { samplingRatio: 2 }', where: 'tracing.samplingRatio', expected: /from 0 to 1/, given: /^2$/ },
  { name: 'a lease under half a second', yaml: 'cluster: { leaseMs: 100 }', where: 'cluster.leaseMs', expected: /from 500/, given: /^100$/ },
  { name: 'a pool share of 0', yaml: 'limits: { perToken: { poolShare: 0 } }', where: 'limits.perToken.poolShare', expected: /a fraction above 0, at most 1/, given: /^0$/ },
  { name: "a token's pool share over 1", yaml: 'auth: { tokens: [{ name: shop, role: application, token: shop-token-0123456789, limits: { poolShare: 1.5 } }] }', where: 'auth.tokens[0].limits.poolShare', expected: /a fraction above 0, at most 1/, given: /^1\.5$/ },
  // Found by hostile testing: a store that forgot a presumed-abort marker while a client could still begin its gtrid.
  { name: 'ended transactions kept no longer than the longest transaction', yaml: 'nodeId: n1\nlog: { store: postgres, url: "postgres://h/db", retainEndedMs: 60000 }', where: 'log.retainEndedMs', expected: /at least transactions\.maxTimeoutMs \+ 60000 \(360000\)/, given: /^60000$/ },
  // Found by hostile testing: a forgotten `log:` section left a node on the file store with its cluster settings.
  { name: 'cluster settings on the file store', yaml: "nodeId: n7\ncluster: { leaseMs: 5000, advertiseAddress: 'tm-1:50051' }", where: 'cluster.advertiseAddress', expected: /log\.store: postgres with it .*no node takes it over/, given: /set, with log\.store: file/ },
  { name: 'the metrics port on the gRPC address', yaml: 'listen: 127.0.0.1:50999\nmetrics: { listen: 127.0.0.1:50999 }', where: 'metrics.listen', expected: /another address than listen \(127\.0\.0\.1:50999\)/, given: /"127\.0\.0\.1:50999"/ },
  { name: 'a store retention on the file store', yaml: 'log: { retainEndedMs: 600000 }', where: 'log.retainEndedMs', expected: /log\.store: postgres with it/, given: /set, with log\.store: file/ },
  { name: 'a default timeout over the maximum', yaml: 'transactions: { defaultTimeoutMs: 400000 }', where: 'transactions.defaultTimeoutMs', expected: /at most transactions\.maxTimeoutMs \(300000\)/, given: /^400000$/ },
  { name: 'requireClientCert without caFile', yaml: `tls: { certFile: ${PEM_KEY_LOOKALIKE}, keyFile: ${PEM_KEY_LOOKALIKE}, requireClientCert: true }`, where: 'tls.caFile', expected: /caFile .* when requireClientCert is true/, given: /nothing/ },
  { name: 'a file that is a list', yaml: '- nodeId: a', where: '(the whole file)', expected: /a mapping of settings/, given: /a list of 1/ },
  { name: 'a file that is not YAML', yaml: 'nodeId: [', where: '(the whole file)', expected: /valid YAML or JSON/, given: /a syntax error: .*line/ },
  // Item 3: what the config points at (before, these failed start-up with exit 1 and a JSON log line).
  { name: 'an unset urlEnv', yaml: 'resources:\n  - { name: pg, kind: postgres, urlEnv: ARBITER21_UNSET_URL }', where: 'resources[0].urlEnv', expected: /an environment variable that holds the URL/, given: /"ARBITER21_UNSET_URL", which is not set/ },
  { name: 'a missing urlFile', yaml: `resources:\n  - { name: pg, kind: postgres, urlFile: ${dir}/missing-url }`, where: 'resources[0].urlFile', expected: /a readable file that holds the URL/, given: /missing-url" \(ENOENT\)/ },
  { name: 'a URL of the wrong kind (password hidden)', yaml: 'resources:\n  - { name: pg, kind: postgres, url: "mysql://root:hunter2-pw@127.0.0.1/x" }', where: 'resources[0].url', expected: /a postgres URL \(postgres:\/\/… or postgresql:\/\/…\)/, given: /"mysql:\/\/root:\*\*\*@127\.0\.0\.1\/x"/ },
  { name: 'a token under 16 characters (not shown)', yaml: 'auth:\n  tokens:\n    - { name: ops, role: admin, token: short-secret }', where: 'auth.tokens[0].token', expected: /at least 16 characters/, given: /a secret of 12 characters \(not shown\)/ },
  { name: 'a token file under 16 characters', yaml: `auth:\n  tokens:\n    - { name: ops, role: admin, tokenFile: ${SHORT_TOKEN_FILE} }`, where: 'auth.tokens[0].tokenFile', expected: /at least 16 characters/, given: /a secret of 3 characters/ },
  { name: 'an unset tokenEnv', yaml: 'auth:\n  tokens:\n    - { name: ops, role: admin, tokenEnv: ARBITER21_UNSET_TOKEN }', where: 'auth.tokens[0].tokenEnv', expected: /an environment variable that holds the token/, given: /"ARBITER21_UNSET_TOKEN", which is not set/ },
  { name: 'a missing TLS certificate', yaml: `tls: { certFile: ${dir}/missing.crt, keyFile: ${PEM_KEY_LOOKALIKE} }`, where: 'tls.certFile', expected: /a readable PEM certificate file/, given: /missing\.crt" \(ENOENT\)/ },
  // Found by review: these failed later, with exit 1 and a JSON log line (the pair at bind, the file at mkdir), or spun for ever (/proc).
  { name: 'a TLS key that is not the certificate\'s', yaml: `tls: { certFile: ${TLS.serverCertFile}, keyFile: ${TLS.clientKeyFile} }`, where: 'tls.keyFile', expected: /the private key of tls\.certFile/, given: /client\.key" \(.*key values mismatch/ },
  { name: 'a dataDir that is a file', yaml: `dataDir: ${SHORT_TOKEN_FILE}/data`, where: 'dataDir', expected: /a folder Arbiter can create/, given: /short-token" is a file/ },
  { name: 'a dataDir under /proc', yaml: 'dataDir: /proc/nope', where: 'dataDir', expected: /a folder Arbiter can create/, given: /on a kernel file system/ },
  // Found by hostile testing: these passed the check and failed start-up with exit 1 (mkdir '').
  { name: 'an empty dataDir', yaml: 'dataDir: ""', where: 'dataDir', expected: /a non-empty string/, given: /""/ },
  { name: 'an empty ARBITER_DATA_DIR', yaml: 'nodeId: a', env: { ARBITER_DATA_DIR: '' }, where: 'ARBITER_DATA_DIR (dataDir)', expected: /a non-empty string/, given: /""/ },
  { name: 'a TLS key that is not PEM', yaml: `tls: { certFile: ${dir}/missing.crt, keyFile: ${PEM_KEY_LOOKALIKE} }`, where: 'tls.keyFile', expected: /a readable PEM private key file/, given: /not-a-key\.pem", which holds no PEM key/ },
]

let fileNo = 0
function check(c: Pick<Case, 'yaml' | 'env'>): ReturnType<typeof checkServeConfig> {
  const file = join(dir, `case-${fileNo++}.yaml`)
  writeFileSync(file, c.yaml)
  return checkServeConfig(file, c.env ?? {})
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

describe('config errors (arbiter serve, before start-up)', () => {
  it.each(CASES)('$name → exit 2 naming $where', (c) => {
    const checked = check(c)
    expect('exitCode' in checked && checked.exitCode).toBe(2)
    const message = 'message' in checked ? checked.message : ''
    const line = message.split('\n').find((l) => l.startsWith(`  ${c.where}: expected `))
    expect(line, `no line for ${c.where} in:\n${message}`).toBeDefined()
    const [, expected, given] = new RegExp(`^  ${escape(c.where)}: expected (.*), got (.*)$`).exec(line!) ?? []
    expect(expected).toMatch(c.expected)
    expect(given).toMatch(c.given)
    expect(message).not.toContain('NaN')
    expect(message).not.toMatch(/s3cret-pw|hunter2-pw|short-secret/)
  })

  it('names the source and reports every problem at once', () => {
    const checked = check({ yaml: 'listen: nonsense\nresorces: []\nlimits: { maxRows: 0 }', env: { ARBITER_NODE_ID: 'a b' } })
    const message = 'message' in checked ? checked.message : ''
    expect(message).toMatch(/^arbiter: invalid configuration \(.*case-\d+\.yaml and ARBITER_\* environment variables\):\n/)
    for (const where of ['listen', 'resorces', 'limits.maxRows', 'ARBITER_NODE_ID (nodeId)']) expect(message).toContain(`\n  ${where}: expected `)
  })

  it('a good config passes; variables that are not config overrides are left alone', () => {
    const checked = check({
      yaml: `resources:\n${GOOD_RESOURCE}\n  - { name: my, kind: mysql, urlEnv: MY_URL }`,
      env: {
        MY_URL: 'mysql://root@127.0.0.1:3308/bank',
        ARBITER_RECOVERY__GRACE_MS: '5000',
        ARBITER_TRACING__SAMPLING_RATIO: '0.5', // a fraction from the environment (was refused: "got \"0.5\"")
        ARBITER_TOKEN: 'the applications own',
        ARBITER_ADDRESS: '127.0.0.1:1',
        ARBITER_ADMIN_TOKEN: 'x',
        ARBITER_TLS_CA: 'ca.pem',
        ARBITER_TEST_PG_URL: 'postgres://x',
        ARBITER_FAILPOINTS: '',
      },
    })
    expect('config' in checked && checked.config.recovery.graceMs).toBe(5000)
  })

  it('ConfigError carries the problems as data', () => {
    const file = join(dir, 'data.yaml')
    writeFileSync(file, 'recovery: { graceMS: 1 }')
    let error: unknown
    try {
      loadConfig(file, {})
    } catch (e) {
      error = e
    }
    expect(error).toBeInstanceOf(ConfigError)
    expect((error as ConfigError).problems).toEqual([{ path: 'recovery.graceMS', expected: 'a known key (did you mean "graceMs"?)', given: 'the unknown key "graceMS"' }])
  })
})

describe('nearest key', () => {
  it('edit distance', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3)
    expect(editDistance('', 'abc')).toBe(3)
    expect(editDistance('same', 'same')).toBe(0)
  })

  it('ignores case, "_" and "-"; no suggestion when nothing is near', () => {
    expect(nearestKey('pool_size', ['poolSize', 'name'])).toBe('poolSize')
    expect(nearestKey('GRACEMS', ['graceMs', 'intervalMs'])).toBe('graceMs')
    expect(nearestKey('resorces', ['resources', 'recovery'])).toBe('resources')
    expect(nearestKey('zzz', ['maxParams', 'maxRows'])).toBeUndefined()
  })
})
