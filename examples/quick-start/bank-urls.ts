// The quick start's database URLs (README "Quick start"): BANK_PG_URL and
// BANK_MYSQL_URL when set, else the same values the README exports, which
// match docker-compose.yml (ports 5434 and 3308, password "arbiter").

export const DEFAULT_BANK_PG_URL = 'postgres://postgres:arbiter@127.0.0.1:5434/bank'
export const DEFAULT_BANK_MYSQL_URL = 'mysql://root:arbiter@127.0.0.1:3308/bank'

export function bankUrls(env: NodeJS.ProcessEnv = process.env): { pg: URL; mysql: URL } {
  return { pg: new URL(env.BANK_PG_URL || DEFAULT_BANK_PG_URL), mysql: new URL(env.BANK_MYSQL_URL || DEFAULT_BANK_MYSQL_URL) }
}

/** The same server without a database in the path (to create the database itself). */
export function serverUrl(url: URL, database: string): string {
  const server = new URL(url)
  server.pathname = `/${database}`
  return server.toString()
}
