// protobufjs reads a string field leniently: bytes that are not UTF-8 become
// U+FFFD, and a length past the end of the message is cut to what is there.
// Found by hostile testing: a Run whose SQL declared 64 bytes but carried
// only "DELETE FROM accounts" decoded as that statement and ran against the
// whole table, and invalid UTF-8 in a parameter was committed as U+FFFD.
// proto3 says a parser rejects both; here every string field is read
// strictly (for requests the TM decodes and answers clients decode), and the
// tolerant deserializers (server/grpc/undecodable-requests.ts) turn the
// throw into INVALID_ARGUMENT naming it. Imported by proto/load.ts, so it is
// in place before any message is decoded.
import protobuf from 'protobufjs/minimal.js'

const utf8 = new TextDecoder('utf-8', { fatal: true })

function strictString(this: protobuf.Reader): string {
  // bytes() throws "index out of range" for a length past the end of the message.
  const bytes = this.bytes()
  try {
    return utf8.decode(bytes)
  } catch {
    throw new Error(`a string field of ${bytes.length} bytes is not valid UTF-8`)
  }
}

protobuf.Reader.prototype.string = strictString
protobuf.BufferReader.prototype.string = strictString
