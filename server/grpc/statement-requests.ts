// The statements of Execute, ExecuteBatch and Run, from the wire to the
// coordinator: decoded (their parameters too), and for a batch or a Run all
// checked before the first runs, so a refused one never leaves the others
// applied. What the service refuses on the way (a statement it cannot decode,
// an answer too big for the client to receive) is refused as the coordinator
// refuses a statement: the transaction, if active here, rolls back, since a
// caller that went on and committed would commit it without that statement.
// Split from transaction-manager-service.ts, whose operations share this.
import type { SqlValue } from '../../adapters/types.js'
import { TmError } from '../../proto/errors.js'
import type { ResultSet } from '../../proto/gen/arbiter/v1/ResultSet.js'
import type { Statement__Output } from '../../proto/gen/arbiter/v1/Statement.js'
import type { BeginOptions } from '../coordinator/coordinator-config.js'
import type { Coordinator } from '../coordinator/coordinator.js'
import { answerLimit, answerOverLimit } from './answer-size.js'
import { fromProtoValue, toResultSet } from './values.js'

export interface DecodedStatement {
  readonly resource: string
  readonly sql: string
  readonly params: SqlValue[]
}

export class StatementRequests {
  constructor(
    private readonly coordinator: Coordinator,
    /** limits.maxMessageBytes: the most one answer may carry. */
    private readonly maxMessageBytes: number,
  ) {}

  /** Refuses (and rolls back) an answer the client could not receive: it is not load, a retry can never fit. */
  fitting<T extends object>(gtrid: string, method: 'Execute' | 'ExecuteBatch' | 'Run', response: T, clientMaxReceive: number | undefined, runClaim?: object): T | Promise<never> {
    const limit = answerLimit(this.maxMessageBytes, clientMaxReceive)
    const bytes = answerOverLimit(method, response, limit)
    if (bytes === undefined) return response
    return this.coordinator.refuseRequest(
      gtrid,
      new TmError(
        'TM_INVALID_ARGUMENT',
        `the answer would be ${bytes} bytes, over the ${limit} this call can carry (limits.maxMessageBytes, or the client's grpc.max_receive_message_length): ` +
          'select fewer rows or columns',
        { metadata: { gtrid } },
      ),
      runClaim,
    )
  }

  /** Every statement decoded and checked before the first runs: a refused one must not leave the others applied. */
  async decodeAll(gtrid: string, statements: readonly (Statement__Output | null)[]): Promise<DecodedStatement[]> {
    const decoded: DecodedStatement[] = []
    for (const [i, statement] of statements.entries()) {
      try {
        const d = this.decode(statement)
        this.coordinator.validateStatement(d.resource, d.sql, d.params)
        decoded.push(d)
      } catch (error) {
        return this.refused(gtrid, error, `statement ${i + 1} of ${statements.length}: `)
      }
    }
    return decoded
  }

  /** Runs a decoded statement; its result as the wire carries it. `runClaim`: the Run it is a statement of (Transaction.runClaim). */
  async run(gtrid: string, s: DecodedStatement, begin?: BeginOptions, runClaim?: object): Promise<ResultSet> {
    return toResultSet(await this.coordinator.execute(gtrid, s.resource, s.sql, s.params, begin, runClaim))
  }

  /** Decodes and runs one statement (Execute). */
  async execute(gtrid: string, statement: Statement__Output | null, begin?: BeginOptions): Promise<ResultSet> {
    let decoded: DecodedStatement
    try {
      decoded = this.decode(statement)
    } catch (error) {
      return this.refused(gtrid, error)
    }
    return this.run(gtrid, decoded, begin)
  }

  /** A statement of a batch or a Run failed or was refused: the caller cannot tell which ran, so the transaction rolls back. */
  async rollBackIfActive(gtrid: string, reason: string): Promise<void> {
    try {
      if (this.coordinator.get(gtrid).state === 'ACTIVE') await this.coordinator.rollback(gtrid, reason)
    } catch {
      // never begun (a refused begin), or already ending
    }
  }

  /** A statement off the wire, its parameters decoded (INVALID_ARGUMENT when it cannot be). */
  private decode(statement: Statement__Output | null): DecodedStatement {
    if (!statement) throw new TmError('TM_INVALID_ARGUMENT', 'statement is required')
    if (!statement.resource) throw new TmError('TM_INVALID_ARGUMENT', 'statement.resource is required')
    return { resource: statement.resource, sql: statement.sql, params: statement.params.map((p, i) => fromProtoValue(p, i + 1)) }
  }

  /** Refused like a statement the coordinator refuses: the transaction, if active, rolls back. */
  private refused(gtrid: string, error: unknown, prefix = ''): Promise<never> {
    if (!(error instanceof TmError) || error.code !== 'TM_INVALID_ARGUMENT') throw error
    return this.coordinator.refuseRequest(gtrid, prefix ? new TmError(error.code, `${prefix}${error.message}`, { metadata: { ...error.metadata } }) : error)
  }
}
