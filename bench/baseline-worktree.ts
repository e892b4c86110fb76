// The baseline TM's code (--baseline-rev, issue #25): a detached git
// worktree of the revision in a temp folder, with this checkout's
// node_modules linked into it (the TM's dependencies have not changed in a
// way that matters; installing them again would take minutes). The worktree
// goes at the end of the run: remove() in the run's finally, and on exit,
// SIGINT or SIGTERM if the run never gets there. Everything is synchronous,
// so it can run in those handlers.
import { execFileSync } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const REPO = fileURLToPath(new URL('..', import.meta.url))

export interface BaselineWorktree {
  /** The revision as given, e.g. "e2b9fca^". */
  readonly rev: string
  readonly commit: string
  readonly subject: string
  /** The worktree: its server/main.ts is the baseline TM. */
  readonly dir: string
  /** This checkout's TM, e.g. "735578a" or "735578a with uncommitted changes in 3 files of server/". */
  readonly current: string
  /** Removes the worktree (idempotent). */
  remove(): void
}

const git = (args: string[], cwd = REPO): string => execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim()

/** What this checkout's TM is: HEAD, and whether server/ (or what it imports) differs from it. */
function describeCurrent(): string {
  const head = git(['rev-parse', '--short', 'HEAD'])
  const changed = git(['status', '--porcelain', '--', 'server', 'proto', 'adapters']).split('\n').filter(Boolean).length
  return changed ? `${head} with uncommitted changes in ${changed} file(s) of server/, proto/, adapters/` : head
}

/** Checks out `rev` into a temp folder; throws (with git's words) when it names no commit. */
export function createBaselineWorktree(rev: string): BaselineWorktree {
  let commit: string
  try {
    commit = git(['rev-parse', '--verify', '--end-of-options', `${rev}^{commit}`])
  } catch (error) {
    throw new Error(`--baseline-rev ${rev}: not a commit of this repository (${(error as { stderr?: string }).stderr?.trim() ?? String(error)})`, { cause: error })
  }
  const subject = git(['log', '-1', '--format=%s', commit])
  const parent = mkdtempSync(join(tmpdir(), 'arbiter-baseline-'))
  const dir = join(parent, 'tree')
  let removed = false
  const remove = (): void => {
    if (removed) return
    removed = true
    process.off('exit', remove)
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    try {
      git(['worktree', 'remove', '--force', dir])
    } catch {
      // never added, or already gone: prune below forgets it either way
    }
    rmSync(parent, { recursive: true, force: true })
    try {
      git(['worktree', 'prune'])
    } catch {
      // nothing to prune
    }
  }
  // The default action of these signals ends the process without running the run's finally: remove first, then die of the signal.
  const onSignal = (signal: NodeJS.Signals): void => {
    remove()
    process.kill(process.pid, signal)
  }
  process.once('exit', remove)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    git(['worktree', 'add', '--detach', dir, commit])
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'), 'dir')
    if (!existsSync(join(dir, 'server', 'main.ts'))) throw new Error(`--baseline-rev ${rev}: ${commit.slice(0, 7)} has no server/main.ts`)
  } catch (error) {
    remove()
    throw error
  }
  return { rev, commit, subject, dir, current: describeCurrent(), remove }
}
