// An answer too big for the caller to receive must not leave the TM: grpc-js
// would fail the call with RESOURCE_EXHAUSTED, which reads "overloaded, try
// again", after the statements ran (and, for Run, after the commit). The
// service checks the size first and refuses instead (the transaction rolls
// back). A cheap upper bound decides almost always; the exact encoding is
// computed only when the bound is over the limit.
import { loadArbiterProto } from '../../proto/load.js'
import { encodedSizeBound, GRPC_DEFAULT_MAX_RECEIVE_BYTES } from '../../proto/message-batcher.js'

type AnswerMethod = 'Execute' | 'ExecuteBatch' | 'Run'

/** The bytes of the answer when it is over `limit`, else undefined. */
export function answerOverLimit(method: AnswerMethod, response: object, limit: number): number | undefined {
  if (encodedSizeBound(response) <= limit) return undefined
  const serialize = loadArbiterProto().proto.arbiter.v1.TransactionManager.service[method].responseSerialize
  const bytes = serialize(response).length
  return bytes > limit ? bytes : undefined
}

/**
 * The most a caller takes in one answer: the TM's own limits.maxMessageBytes
 * and what the client announced it receives (grpc.max_receive_message_length,
 * header arbiter-max-receive-bytes), else gRPC's default 4 MiB. -1 announces none.
 */
export function answerLimit(maxMessageBytes: number, clientAnnounced: number | undefined): number {
  const client = clientAnnounced === undefined || !Number.isFinite(clientAnnounced) ? GRPC_DEFAULT_MAX_RECEIVE_BYTES : clientAnnounced < 0 ? Number.POSITIVE_INFINITY : clientAnnounced
  return Math.min(maxMessageBytes, client)
}
