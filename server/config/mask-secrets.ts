// The one place a connection string is made fit to print, for log lines
// (logger.ts maskUrl) and config errors (config-error.ts) alike. Drivers
// take a password in more places than user:pass@ (found by hostile
// testing: ?password=… printed verbatim in "resource configured"):
//   - the URL's userinfo: postgres://u:pw@h, redis://:pw@h;
//   - query parameters: ?password=…, ?sslpassword=…, ?sslkey=…;
//   - libpq's key=value form: host=h user=u password=pw (or password='p w').
// Any parameter whose name holds pass, secret, token or key is masked.

/** What stands in for a secret. */
const MASK = '***'

/**
 * name=value where the name looks secret: after the start, whitespace (libpq
 * key=value), or ?, &, ;, # (a URL's query or fragment). A value runs to the
 * next whitespace, & or #, or is libpq's single-quoted form.
 */
const SECRET_PAIR = /(^|[\s?&;#])([\w.%-]*(?:pass|secret|token|key)[\w.%-]*)(\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s&#]*)/gi

/** scheme://user:…@ for a URL the WHATWG parser refuses (a "#" or "/" in an unencoded password). */
const USERINFO_BY_SHAPE = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@:]*):.*@/i

/** A connection URL (or libpq key=value string) with every password, secret, token and key replaced by "***". */
export function maskSecrets(text: string): string {
  let out = text
  try {
    // The drivers parse with the same WHATWG parser (pg-connection-string, mysql2): its password is theirs.
    const parsed = new URL(text)
    if (parsed.password) {
      parsed.password = MASK
      out = parsed.toString()
    }
  } catch {
    // Not a URL: perhaps key=value, perhaps a URL its driver would refuse too. Mask by shape; too much is better than too little.
    out = out.replace(USERINFO_BY_SHAPE, `$1:${MASK}@`)
  }
  return out.replace(SECRET_PAIR, (_all, before: string, name: string, equals: string) => `${before}${name}${equals}${MASK}`)
}
