// One TM per data folder: a second process on the same decision log would
// interleave records and presume aborts the first one is committing.
// The lock is a file holding the owner's pid; a stale one (owner dead, e.g.
// after kill -9) is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'

export function lockDataDir(dir: string): () => void {
  mkdirSync(dir, { recursive: true })
  const path = join(dir, 'LOCK')
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      writeFileSync(path, String(process.pid), { flag: 'wx' })
      return () => rmSync(path, { force: true })
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
      const owner = Number(readFileSync(path, 'utf8').trim())
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new Error(`data folder ${dir} is in use by another Arbiter process (pid ${owner}); one TM per decision log`, { cause: error })
      }
      rmSync(path, { force: true }) // stale: its owner is gone
    }
  }
  throw new Error(`could not lock data folder ${dir}`)
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'
  }
  // A zombie (killed, not yet reaped) still answers kill(pid, 0) but holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return true // no /proc (not Linux): trust kill()
  }
}
