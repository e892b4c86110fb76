// Runs `arbiter admin …` as a child process, the way an operator does.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('../../..', import.meta.url))

export interface CliResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export function runAdminCli(args: readonly string[], env: Record<string, string> = {}): Promise<CliResult> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...env }
  for (const key of ['ARBITER_ADMIN_TOKEN', 'ARBITER_ADDRESS', 'ARBITER_TLS_CA', 'ARBITER_TLS_CERT', 'ARBITER_TLS_KEY']) if (!(key in env)) delete childEnv[key]
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', 'server/main.ts', 'admin', ...args],
      { cwd: REPO, env: childEnv, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0
        resolve({ code, stdout, stderr })
      },
    )
  })
}
