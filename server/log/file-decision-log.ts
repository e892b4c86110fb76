// The default decision log: append-only segment files in a data folder.
//
// - Every record is framed with its length and a CRC (record-frame.ts).
// - Group commit: records that arrive while a write+fsync is running wait
//   and go out together in the next batch, so one fsync covers many decisions.
// - At open, a torn record at the tail of the last segment (a crash during a
//   write) is cut off; damage anywhere else stops the TM with the place named:
//   silently dropping a decision could roll back a committed transaction.
// - An fsync failure is fail-stop (after EIO the kernel may have dropped the
//   pages, and a retried fsync can falsely succeed). A failed write (disk
//   full) is undone by truncating back, and the log stays usable.
// - A closed segment whose transactions have all ended is deleted, oldest first.
import { mkdir, open, readdir, readFile, rm, writeFile, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import { failpoint } from '../failpoints.js'
import { BatchWait, type CommitDelayOptions } from './commit-delay.js'
import { DecisionIndex } from './decision-index.js'
import { EndWait } from './end-wait.js'
import { readCreated, unusableFile, writeCreated } from './log-dir-files.js'
import { FlushLoop } from './flush-loop.js'
import {
  LogCorruptError,
  LogFailedError,
  LogWriteError,
  type DecisionLog,
  type DecisionLogStats,
  type EndOptions,
  type LoggedTransaction,
} from './decision-log.js'
import type { LogRecord, LoggedBranch, ResolutionRecord } from './log-record.js'
import { encodeFrame, nextRecordAfter, readFrame } from './record-frame.js'

const MAGIC = Buffer.from('ARBLOG01', 'ascii')
const SEGMENT_NAME = /^segment-(\d{10})\.log$/

export interface FileDecisionLogOptions {
  /** The folder; created when missing. */
  readonly dir: string
  /** Start a new segment once the current one is this big (default 16 MiB). */
  readonly segmentBytes?: number
  /** Told the size of each batch written (metrics: arbiter_decision_log_batch_size). Must not throw or block. */
  readonly onBatch?: (records: number) => void
  /** Told of every batch write: no error when it succeeded (readiness, write-probe.ts). */
  readonly onWrite?: (error?: unknown) => void
  /**
   * Group commit (default true): one write+fsync covers every record queued
   * while the previous one ran. false writes and fsyncs each record on its
   * own — only a baseline for the decision-log micro-benchmark.
   */
  readonly groupCommit?: boolean
  /**
   * Commit delay (commit-delay.ts): under load, a batch with a decision
   * waits for more decisions to share its fsync. Off when absent.
   */
  readonly commitDelay?: CommitDelayOptions
  /** How long ENDs alone wait for a decision's write (end-wait.ts; default END_WAIT_MS). */
  readonly endWaitMs?: number
}

interface Pending {
  readonly record: LogRecord
  readonly frame: Buffer
  readonly durable: boolean
  /** Written without the END wait (appendEnd's `now`). */
  readonly urgent: boolean
  readonly resolve: () => void
  readonly reject: (error: Error) => void
}

interface Segment {
  readonly seq: number
  readonly path: string
  /** gtrids with records here that have not ended. */
  readonly open: Set<string>
}

export class FileDecisionLog implements DecisionLog {
  private readonly dir: string
  private readonly segmentBytes: number
  private readonly onBatch: ((records: number) => void) | undefined
  private readonly onWrite: ((error?: unknown) => void) | undefined
  private readonly groupCommit: boolean
  private readonly batchWait: BatchWait
  private readonly endWait: EndWait
  private readonly index = new DecisionIndex()
  private segments: Segment[] = []
  private created: number | undefined
  private file: FileHandle | undefined
  private size = 0
  private queue: Pending[] = []
  private readonly flushLoop = new FlushLoop(() => this.flush(), () => this.queue.length > 0)
  private failure: Error | undefined
  private counters = { records: 0, fsyncs: 0, batches: 0 }

  constructor(options: FileDecisionLogOptions) {
    this.dir = options.dir
    this.segmentBytes = options.segmentBytes ?? 16 * 1024 * 1024
    this.onBatch = options.onBatch
    this.onWrite = options.onWrite
    this.groupCommit = options.groupCommit ?? true
    this.batchWait = new BatchWait(options.commitDelay)
    this.endWait = new EndWait(options.endWaitMs)
  }

  async open(): Promise<void> {
    try {
      await this.openFiles()
    } catch (error) {
      throw unusableFile(error)
    }
  }

  private async openFiles(): Promise<void> {
    await mkdir(this.dir, { recursive: true })
    const names = (await readdir(this.dir)).filter((n) => SEGMENT_NAME.test(n)).sort()
    for (const [i, name] of names.entries()) {
      const seq = Number(SEGMENT_NAME.exec(name)![1])
      const segment: Segment = { seq, path: join(this.dir, name), open: new Set() }
      const goodBytes = await this.replaySegment(segment, i === names.length - 1).catch((error: unknown) => {
        throw unusableFile(error, segment.path)
      })
      this.segments.push(segment)
      if (i === names.length - 1) await this.openForAppend(segment, goodBytes)
    }
    if (this.segments.length === 0) {
      // A new log: its creation time is kept beside it, before its first segment exists (createdAt()).
      this.created = Date.now()
      await writeCreated(this.dir, this.created)
      await this.startSegment(1)
    } else {
      this.created = await readCreated(this.dir)
    }
    await this.collectGarbage()
  }

  /**
   * Takes no more writes, as after a failed fsync (healthy() false: nothing
   * presumed, no decision logged): another process now writes this folder.
   */
  stopWriting(why: Error): void {
    this.failure ??= why
  }

  /** When this log was created (DecisionLog.createdAt); undefined for a log from before that was kept. */
  createdAt(): number | undefined {
    return this.created
  }

  /** Replays one segment into the index; returns the length of its good prefix. */
  private async replaySegment(segment: Segment, isLast: boolean): Promise<number> {
    const buf = await readFile(segment.path)
    if (buf.length < MAGIC.length || !buf.subarray(0, MAGIC.length).equals(MAGIC)) {
      if (isLast && MAGIC.subarray(0, buf.length).equals(buf)) return 0 // crashed while creating it
      throw new LogCorruptError(`${segment.path}: not an Arbiter log segment (bad header)`)
    }
    let offset = MAGIC.length
    while (offset < buf.length) {
      const read = readFrame(buf, offset)
      if (read.kind === 'record') {
        this.applyToIndex(segment, read.record)
        offset = read.next
        continue
      }
      // A torn write can only be the last thing in the last segment. A bad
      // frame with any good one after it is damage at rest: refuse to guess.
      // A damaged length field hides where the next frame starts, so look for
      // one at every offset, not only where this frame claims to end. Zeros
      // before a later good frame are a crash's hole (blocks of one unfinished
      // batch that never reached the disk): that batch was never acknowledged,
      // since a finished fdatasync would have written the hole too.
      const next = isLast ? nextRecordAfter(buf, offset) : undefined
      const tornTail = isLast && (next === undefined || buf.subarray(offset, next).every((byte) => byte === 0))
      if (!tornTail) {
        const why = read.kind === 'truncated' ? 'truncated record' : read.why
        throw new LogCorruptError(
          `${segment.path}: ${why} at byte ${offset} of ${buf.length}; the log is damaged before its end. ` +
            'Refusing to start: dropping a decision could roll back a committed transaction. Restore the folder or inspect it.',
        )
      }
      return offset
    }
    return buf.length
  }

  private async openForAppend(segment: Segment, goodBytes: number): Promise<void> {
    this.file = await open(segment.path, 'r+')
    const { size } = await this.file.stat()
    if (goodBytes < MAGIC.length) {
      await this.file.truncate(0)
      await this.file.write(MAGIC, 0, MAGIC.length, 0)
      goodBytes = MAGIC.length
      await this.file.datasync()
    } else if (size > goodBytes) {
      // Cut the torn tail so new records follow the last good one; keep a
      // copy of what was cut beside the segment, for an incident review.
      const tail = Buffer.alloc(size - goodBytes)
      await this.file.read(tail, 0, tail.length, goodBytes)
      // Only evidence: a disk too full for it must not keep the TM from starting.
      await writeFile(`${segment.path}.torn-at-${goodBytes}`, tail).catch(() => undefined)
      await this.file.truncate(goodBytes)
      await this.file.datasync()
    }
    this.size = goodBytes
  }

  private async startSegment(seq: number): Promise<void> {
    // The current segment's END records may not have been forced yet, and a
    // torn tail is tolerated only in the last segment: it must be whole on
    // disk before a newer one exists.
    await this.file?.datasync()
    const path = join(this.dir, `segment-${String(seq).padStart(10, '0')}.log`)
    const file = await open(path, 'wx')
    await file.write(MAGIC, 0, MAGIC.length, 0)
    await file.datasync()
    await this.syncDir()
    await this.file?.close()
    this.file = file
    this.size = MAGIC.length
    this.segments.push({ seq, path, open: new Set() })
  }

  private async syncDir(): Promise<void> {
    // The new file's name must be durable too, or a crash loses the segment.
    const dir = await open(this.dir, 'r')
    try {
      await dir.sync()
    } finally {
      await dir.close()
    }
  }

  private applyToIndex(segment: Segment, record: LogRecord): void {
    this.index.apply(record)
    // Unfinished, or ended with an outcome a resolution mixed (HEURISTIC: its records are its audit trail,
    // and what a restart answers from; found by hostile testing: collected, it read NOT_FOUND), its records'
    // segments stay. Otherwise nothing of it pins a segment any more.
    if (this.index.isOpen(record.gtrid) || this.index.endedMixed(record.gtrid)) {
      segment.open.add(record.gtrid)
    } else {
      for (const s of this.segments) s.open.delete(record.gtrid)
      segment.open.delete(record.gtrid)
    }
  }

  appendDecision(gtrid: string, branches: readonly LoggedBranch[], trace?: string): Promise<void> {
    return this.enqueue({ type: 'decision', gtrid, at: Date.now(), branches, ...(trace !== undefined && { trace }) }, true)
  }

  appendEnd(gtrid: string, options?: EndOptions): Promise<void> {
    return this.enqueue({ type: 'end', gtrid, at: Date.now(), ...(options?.committed === true && { committed: true as const }) }, false, options?.now === true)
  }

  appendResolution(record: Omit<ResolutionRecord, 'type' | 'at'>): Promise<void> {
    return this.enqueue({ ...record, type: 'resolution', at: Date.now() }, true)
  }

  private enqueue(record: LogRecord, durable: boolean, urgent = false): Promise<void> {
    if (this.failure) return Promise.reject(new LogFailedError(`decision log failed earlier: ${this.failure.message}`))
    if (!this.file) return Promise.reject(new LogWriteError('decision log is not open'))
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ record, frame: encodeFrame(record), durable, urgent, resolve, reject })
      if (durable || urgent) this.endWait.must()
      if (durable) this.batchWait.decisionQueued(this.durableQueued())
      this.flushLoop.start()
    })
  }

  /** Writes batches until the queue is empty; one fsync per batch that needs one. */
  private async flush(): Promise<void> {
    while (this.queue.length > 0) {
      // ENDs alone wait for the next decision's batch (end-wait.ts).
      if (this.groupCommit) await this.endWait.forCompany(this.queue.filter((p) => p.durable || p.urgent).length)
      // Before every batch with a decision, not only the first: under load the loop never goes idle.
      await this.batchWait.beforeBatch(this.durableQueued())
      const batch = this.groupCommit ? this.queue : this.queue.splice(0, 1)
      if (this.groupCommit) this.queue = []
      if (this.failure) {
        for (const p of batch) p.reject(new LogFailedError(`decision log failed earlier: ${this.failure.message}`))
        continue
      }
      await this.writeBatch(batch)
    }
  }

  private durableQueued(): number {
    let n = 0
    for (const p of this.queue) if (p.durable) n += 1
    return n
  }

  private async writeBatch(batch: Pending[]): Promise<void> {
    const file = this.file!
    const start = this.size
    const bytes = Buffer.concat(batch.map((p) => p.frame))
    try {
      await failpoint('log-before-write')
      let written = 0
      while (written < bytes.length) {
        const { bytesWritten } = await file.write(bytes, written, bytes.length - written, start + written)
        written += bytesWritten
      }
    } catch (error) {
      this.onWrite?.(error)
      await this.undoWrite(file, start, batch, error)
      return
    }
    this.onWrite?.()
    if (batch.some((p) => p.durable)) {
      try {
        await failpoint('log-before-fsync')
        await file.datasync()
        this.counters.fsyncs += 1
      } catch (error) {
        this.failure = error instanceof Error ? error : new Error(String(error))
        for (const p of batch) p.reject(new LogFailedError(`fsync of the decision log failed: ${this.failure.message}`))
        return
      }
    }
    this.size = start + bytes.length
    this.counters.batches += 1
    this.counters.records += batch.length
    this.onBatch?.(batch.length)
    const segment = this.segments[this.segments.length - 1]!
    for (const p of batch) this.applyToIndex(segment, p.record)
    for (const p of batch) p.resolve()
    try {
      if (this.size >= this.segmentBytes) await this.rotate()
      else if (batch.some((p) => p.record.type === 'end')) await this.collectGarbage()
    } catch (error) {
      // The batch is durable. A segment that cannot be started leaves nowhere
      // safe to append: fail the log (the TM commits nothing more until it is
      // restarted) rather than crash the process with an unhandled rejection.
      // Old segments that cannot be deleted now are tried again later.
      if (this.size >= this.segmentBytes) this.failure ??= error instanceof Error ? error : new Error(String(error))
    }
  }

  /** A write failed (e.g. ENOSPC): cut back to where the batch began, so its records are not in the log. */
  private async undoWrite(file: FileHandle, start: number, batch: Pending[], error: unknown): Promise<void> {
    const message = error instanceof Error ? error.message : String(error)
    try {
      await file.truncate(start)
      await file.datasync()
    } catch (undoError) {
      this.failure = undoError instanceof Error ? undoError : new Error(String(undoError))
      for (const p of batch) p.reject(new LogFailedError(`decision log write failed (${message}) and could not be undone`))
      return
    }
    for (const p of batch) p.reject(new LogWriteError(`decision log write failed: ${message}`))
  }

  private async rotate(): Promise<void> {
    const last = this.segments[this.segments.length - 1]!
    await this.startSegment(last.seq + 1)
    await this.collectGarbage()
  }

  /** Deletes closed segments, oldest first, while every transaction in them has ended. */
  private async collectGarbage(): Promise<void> {
    let removed = false
    while (this.segments.length > 1 && this.segments[0]!.open.size === 0) {
      const oldest = this.segments.shift()!
      await rm(oldest.path, { force: true })
      removed = true
    }
    if (removed) await this.syncDir()
  }

  unfinished(): LoggedTransaction[] {
    return this.index.unfinished()
  }

  heuristicEnded(): LoggedTransaction[] {
    return this.index.heuristicEnded()
  }

  get(gtrid: string): LoggedTransaction | undefined {
    return this.index.get(gtrid)
  }

  stats(): DecisionLogStats {
    return { ...this.counters, segments: this.segments.length }
  }

  healthy(): boolean {
    return this.failure === undefined && this.file !== undefined
  }

  async close(): Promise<void> {
    this.batchWait.release() // no commit delay on the way out
    this.endWait.release()
    await this.flushLoop.idle()
    await this.file?.close()
    this.file = undefined
  }
}
