// Token secrets a client could never send are refused at start-up (exit 2,
// the field named, the secret never printed). Found by hostile testing:
// "correct horse battery staple", a non-ASCII token and a tokenEnv value
// ending in a newline all started cleanly, and then no gRPC client could
// present them (grpc-js refuses non-ASCII and newlines in metadata; a space
// breaks "Bearer <token>"); a tokenEnv of 16 spaces counted as a token.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { checkServeConfig } from '../../../server/cli/serve-command.js'
import { TokenAuthenticator } from '../../../server/grpc/auth.js'

const dir = mkdtempSync(join(tmpdir(), 'arbiter-tokens-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const GOOD = 'good-token-0123456789abcdef'

function check(token: string, env: Record<string, string> = {}): string {
  const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`)
  writeFileSync(file, `auth:\n  tokens:\n    - { name: ops, role: admin, ${token} }\n`)
  const checked = checkServeConfig(file, env)
  if ('config' in checked) return 'accepted'
  expect(checked.exitCode).toBe(2)
  return checked.message
}

describe('token secrets a client cannot send', () => {
  const refused: [string, string, Record<string, string>, string, RegExp][] = [
    ['spaces', 'token: "correct horse battery staple"', {}, 'auth.tokens[0].token', /a secret of 28 characters that holds whitespace \(not shown\)/],
    ['non-ASCII', 'token: "pässwörd-0123456789abcdef"', {}, 'auth.tokens[0].token', /a secret of 25 characters that holds characters outside printable ASCII \(not shown\)/],
    ['a tab inside, from tokenEnv', 'tokenEnv: T', { T: 'abcdefgh\tijklmnopqrs' }, 'auth.tokens[0].tokenEnv', /holds whitespace \(not shown\)/],
    ['a control character', 'tokenEnv: T', { T: 'abcdefgh\u0007ijklmnopqrs' }, 'auth.tokens[0].tokenEnv', /outside printable ASCII/],
    ['an inline token of spaces', `token: "${' '.repeat(16)}"`, {}, 'auth.tokens[0].token', /holds whitespace/],
    ['an empty inline token', 'token: ""', {}, 'auth.tokens[0].token', /a secret of 0 characters/],
  ]
  it.each(refused)('%s → exit 2, the field named, the secret not shown', (_what, token, env, where, given) => {
    const message = check(token, env)
    const line = message.split('\n').find((l) => l.startsWith(`  ${where}: expected `)) ?? message
    expect(line).toMatch(/expected a secret of at least 16 characters, printable ASCII without spaces \(0x21–0x7E/)
    expect(line).toMatch(given)
    for (const secret of ['correct horse', 'pässwörd', 'abcdefgh']) expect(message).not.toContain(secret)
  })

  it('a tokenEnv of 16 spaces holds no token', () => {
    expect(check('tokenEnv: T', { T: ' '.repeat(16) })).toContain('  auth.tokens[0].tokenEnv: expected the name of an environment variable that holds the token, got "T", which is only whitespace')
  })

  it('a tokenEnv value is trimmed like a tokenFile: the token clients send works', () => {
    const auth = new TokenAuthenticator([{ name: 'ops', role: 'admin', tokenEnv: 'T' }], { T: `${GOOD}\n` })
    expect(auth.authenticate(GOOD)).toEqual({ name: 'ops', role: 'admin' })
    expect(check('tokenEnv: T', { T: `  ${GOOD}\r\n` })).toBe('accepted')
  })

  it('a token in tokenEnv instead of a variable name is not echoed', () => {
    const message = check(`tokenEnv: "${GOOD} "`)
    expect(message).toMatch(/auth\.tokens\[0\]\.tokenEnv: expected the name of an environment variable .*got 28 characters that do not name a variable \(not shown: it may be the token itself\), which is not set/)
    expect(message).not.toContain(GOOD)
  })

  it('printable ASCII without spaces is taken', () => {
    expect(check(`token: "${'!~'.repeat(4)}${GOOD}"`)).toBe('accepted')
  })
})
