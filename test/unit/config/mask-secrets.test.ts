// Connection strings made fit to print, for the "resource configured" log
// line and config errors alike (server/config/mask-secrets.ts): passwords in
// the userinfo, in query parameters (?password=, ?sslpassword=, ?sslkey=)
// and in libpq's key=value form. Found by hostile testing: a password given
// as ?password=… was logged verbatim, and config errors echoed it, and a
// key=value string given as url/urlEnv, whole.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkServeConfig } from '../../../server/cli/serve-command.js'
import { maskSecrets } from '../../../server/config/mask-secrets.js'
import { maskUrl } from '../../../server/logger.js'

const SECRET = 'S3cret-LEAK'

const MASKED: readonly [string, string][] = [
  // The forms the drivers take, with the password where each takes it.
  [`postgres://u@127.0.0.1:1/bank?password=${SECRET}`, 'postgres://u@127.0.0.1:1/bank?password=***'],
  [`postgresql://u:${SECRET}@db.example:5432/bank?sslmode=require`, 'postgresql://u:***@db.example:5432/bank?sslmode=require'],
  [`postgres://u@h/bank?sslmode=verify-full&sslpassword=${SECRET}&sslkey=/k/${SECRET}.key&application_name=shop`, 'postgres://u@h/bank?sslmode=verify-full&sslpassword=***&sslkey=***&application_name=shop'],
  [`mysql://root@127.0.0.1:3308/bank?password=${SECRET}&connectTimeout=1000`, 'mysql://root@127.0.0.1:3308/bank?password=***&connectTimeout=1000'],
  [`mariadb://root:${SECRET}@127.0.0.1:3308/bank`, 'mariadb://root:***@127.0.0.1:3308/bank'],
  [`redis://:${SECRET}@127.0.0.1:6379/0`, 'redis://:***@127.0.0.1:6379/0'],
  [`rediss://default:${SECRET}@cache.example:6380`, 'rediss://default:***@cache.example:6380'],
  [`redis://127.0.0.1:6379/0?password=${SECRET}`, 'redis://127.0.0.1:6379/0?password=***'],
  [`redis://h:6379?Auth_Token=${SECRET}&db=2`, 'redis://h:6379?Auth_Token=***&db=2'],
  // libpq's key=value form, plain and quoted.
  [`host=h user=u password=${SECRET} dbname=bank`, 'host=h user=u password=*** dbname=bank'],
  [`host=h password = '${SECRET} with spaces' sslkey=/k.pem`, "host=h password = *** sslkey=***"],
  // A password the URL parser refuses (an unencoded "#"): masked by its shape.
  [`postgres://u:pa#${SECRET}@h/bank`, 'postgres://u:***@h/bank'],
]

describe('maskSecrets', () => {
  it.each(MASKED)('%s', (given, masked) => {
    expect(maskSecrets(given)).toBe(masked)
    expect(maskUrl(given), 'the logger shares the one function').toBe(masked)
  })

  it('leaves what is not secret as it was', () => {
    for (const url of ['postgres://u@127.0.0.1:5434/bank', 'mysql://root@h:3308/bank?connectTimeout=1000', 'redis://h:6379/0', 'host=h user=u dbname=bank']) {
      expect(maskSecrets(url)).toBe(url)
    }
  })
})

const dir = mkdtempSync(join(tmpdir(), 'arbiter-mask-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

function configMessage(yaml: string, env: Record<string, string> = {}): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, yaml)
  const checked = checkServeConfig(file, env)
  expect('exitCode' in checked && checked.exitCode).toBe(2)
  return 'message' in checked ? checked.message : ''
}

describe('config errors never echo a URL unmasked', () => {
  it('a URL of the wrong kind with ?password=', () => {
    const message = configMessage(`resources:\n  - { name: pg, kind: postgres, url: "mysql://root@h/bank?password=${SECRET}" }`)
    expect(message).toContain('resources[0].url: expected a postgres URL')
    expect(message).toContain('"mysql://root@h/bank?password=***"')
    expect(message).not.toContain(SECRET)
  })

  it('a key=value string from urlEnv and from urlFile', () => {
    const file = join(dir, 'kv-url')
    writeFileSync(file, `host=h user=u password=${SECRET}\n`)
    const message = configMessage(
      `resources:\n  - { name: pg, kind: postgres, urlEnv: KV_URL }\n  - { name: pg2, kind: postgres, urlFile: ${file} }\nlog: { store: postgres, urlEnv: KV_URL }\nnodeId: a`,
      { KV_URL: `host=h user=u password=${SECRET}` },
    )
    expect(message).toMatch(/resources\[0\]\.urlEnv: expected a postgres URL .*got "host=h user=u password=\*\*\*" \(from urlEnv "KV_URL"\)/)
    expect(message).toMatch(/resources\[1\]\.urlFile: expected a postgres URL .*password=\*\*\*/)
    expect(message).toMatch(/log\.urlEnv: expected a postgres URL .*password=\*\*\*/)
    expect(message).not.toContain(SECRET)
  })

  it('a URL written where a variable name or a file belongs', () => {
    const url = `redis://:${SECRET}@h:6379`
    const message = configMessage(`resources:\n  - { name: r, kind: redis, urlEnv: "${url}" }\n  - { name: s, kind: redis, urlFile: "${url}" }`)
    expect(message).toContain('resources[0].urlEnv: expected the name of an environment variable that holds the URL, got "redis://:***@h:6379", which is not set')
    expect(message).toMatch(/resources\[1\]\.urlFile: expected a readable file that holds the URL, got "redis:\/\/:\*\*\*@h:6379" \(ENOENT\)/)
    expect(message).not.toContain(SECRET)
  })
})
