// The on-disk frame of one log record: [u32 length][u32 crc32][payload].
// The payload is JSON (small, readable with a hex dump in an incident); the
// CRC covers length and payload so a torn or flipped frame is always caught.
import { crc32 } from 'node:zlib'
import { isLogRecord, type LogRecord } from './log-record.js'

export const FRAME_HEADER_BYTES = 8
/** A record larger than this is corruption, not data (decisions are small). */
export const MAX_RECORD_BYTES = 1 << 20

export function encodeFrame(record: LogRecord): Buffer {
  const payload = Buffer.from(JSON.stringify(record), 'utf8')
  if (payload.length > MAX_RECORD_BYTES) throw new Error(`log record of ${payload.length} bytes exceeds ${MAX_RECORD_BYTES}`)
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + payload.length)
  frame.writeUInt32LE(payload.length, 0)
  payload.copy(frame, FRAME_HEADER_BYTES)
  frame.writeUInt32LE(frameChecksum(payload.length, payload), 4)
  return frame
}

function frameChecksum(length: number, payload: Buffer): number {
  const len = Buffer.allocUnsafe(4)
  len.writeUInt32LE(length, 0)
  return crc32(payload, crc32(len))
}

export type FrameRead =
  | { readonly kind: 'record'; readonly record: LogRecord; readonly next: number }
  /** Not enough bytes for a whole frame: a torn write at the tail. */
  | { readonly kind: 'truncated' }
  /** A whole frame whose checksum or content is wrong. */
  | { readonly kind: 'corrupt'; readonly why: string; readonly next: number }

/** Reads the frame starting at `offset` of `buf`. */
export function readFrame(buf: Buffer, offset: number): FrameRead {
  if (buf.length - offset < FRAME_HEADER_BYTES) return { kind: 'truncated' }
  const length = buf.readUInt32LE(offset)
  if (length > MAX_RECORD_BYTES) return { kind: 'corrupt', why: `impossible record length ${length}`, next: buf.length }
  const end = offset + FRAME_HEADER_BYTES + length
  if (end > buf.length) return { kind: 'truncated' }
  const payload = buf.subarray(offset + FRAME_HEADER_BYTES, end)
  if (frameChecksum(length, payload) !== buf.readUInt32LE(offset + 4)) {
    return { kind: 'corrupt', why: 'checksum mismatch', next: end }
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(payload.toString('utf8'))
  } catch {
    return { kind: 'corrupt', why: 'payload is not JSON', next: end }
  }
  if (!isLogRecord(parsed)) return { kind: 'corrupt', why: 'payload is not a log record', next: end }
  return { kind: 'record', record: parsed, next: end }
}

/**
 * Where the first whole, valid record after `offset` starts, if any.
 * Candidates are cheap to rule out (a plausible length and a JSON object's
 * first byte) before the checksum is computed.
 */
export function nextRecordAfter(buf: Buffer, offset: number): number | undefined {
  const OPEN_BRACE = 0x7b
  for (let at = offset + 1; at + FRAME_HEADER_BYTES < buf.length; at++) {
    if (buf[at + FRAME_HEADER_BYTES] !== OPEN_BRACE) continue
    const length = buf.readUInt32LE(at)
    if (length === 0 || length > MAX_RECORD_BYTES || at + FRAME_HEADER_BYTES + length > buf.length) continue
    if (readFrame(buf, at).kind === 'record') return at
  }
  return undefined
}
