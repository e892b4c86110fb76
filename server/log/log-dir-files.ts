// The file log's folder beside its segments: when the log was created
// (CREATED, for recovery: DecisionLog.createdAt), and file-system errors at
// open said for an operator.
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Holds the log's creation time (ISO 8601), written once when the log is new. */
const CREATED_FILE = 'CREATED'

/** Keeps a new log's creation time beside it (before its first segment exists). */
export async function writeCreated(dir: string, created: number): Promise<void> {
  await writeFile(join(dir, CREATED_FILE), `${new Date(created).toISOString()}\n`, { flush: true })
}

/** The creation time kept beside a log; undefined when none was kept (or it cannot be read as one). */
export async function readCreated(dir: string): Promise<number | undefined> {
  try {
    const time = Date.parse((await readFile(join(dir, CREATED_FILE), 'utf8')).trim())
    return Number.isNaN(time) ? undefined : time
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/**
 * A file-system error at open, said for an operator: which path, what is
 * wrong with it (found by hostile testing: a file where the log folder goes
 * said only "EEXIST: file already exists, mkdir", a folder where a segment
 * goes only "EISDIR", naming nothing).
 */
export function unusableFile(error: unknown, path?: string): unknown {
  const e = error as NodeJS.ErrnoException
  const where = e.path ?? path // readFile of a folder says EISDIR without a path
  if (where === undefined || e.code === undefined) return error // ours (a damaged log): it says what and where already
  const what: Record<string, string> = {
    EEXIST: 'a file is where a folder must be',
    ENOTDIR: 'a file is where a folder must be',
    EISDIR: 'a folder is where a file must be',
    EACCES: 'this process may not read or write it',
    EPERM: 'this process may not read or write it',
    EROFS: 'it is on a read-only file system',
  }
  return new Error(`cannot open the decision log at ${where}: ${what[e.code] ?? e.code} (${e.message}); fix or move that path (dataDir)`, { cause: error })
}
