// Found by hostile testing of the Python client (examples/python/): what it
// does with wrong arguments, and with a Begin that fails.
// - `params` that is not a list or tuple was iterated: a dict sent its keys,
//   a str one parameter per character. Now InvalidArgumentError naming params.
// - A value that cannot be sent raised ValueError / TypeError /
//   UnicodeEncodeError. Now InvalidArgumentError naming the parameter, as the
//   TypeScript client (client/values.ts).
// - run([]) was refused only after a Begin, whose transaction then stayed
//   ACTIVE until its timeout. Now the statements are checked before any call.
// - A Begin without an answer (the TM paused) raised OutcomeUnknownError
//   without a gtrid, though nothing ran. Now UnavailableError, retryable.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, sharedServerUrls } from '../../harness/index.js'
import { ArbiterProcess, testConfig } from '../../helpers/test-arbiter.js'
import { byCase, PythonFixtures, skipPython, type PyRecord } from './python-run.js'

const TOKEN = 'python-checks-token-0123456789'
const BAD_PARAMS = ['dict', 'str', 'bytes', 'int']
const BAD_VALUES = [
  'naive datetime',
  'int outside int64',
  'NaN',
  'infinity',
  'unsupported type',
  'lone surrogate',
  'dict holding a Decimal',
  'list holding NaN',
  'Decimal NaN',
]

describe.skipIf(skipPython())('Python client: argument checks and a failed Begin', () => {
  let py: PythonFixtures
  // A child process, so that it can be paused (SIGSTOP) for the failed Begin.
  let tm: ArbiterProcess
  let cases: Record<string, PyRecord>

  beforeAll(async () => {
    py = PythonFixtures.build()
    const pgUrl = await createDatabase(sharedServerUrls().pgUrl, 'pychecks')
    tm = await ArbiterProcess.start(
      testConfig([{ name: 'pg', kind: 'postgres', url: pgUrl, poolSize: 2 }], { auth: { tokens: [{ name: 'app', role: 'application', token: TOKEN }] } }),
    )
    cases = byCase(await py.run('client_checks.py', ['arguments', '--address', tm.address, '--token', TOKEN]))
  })

  afterAll(async () => {
    tm?.resume()
    await tm?.destroy()
    py?.remove()
  })

  it('params that is not a list or tuple raises InvalidArgumentError naming params, and sends nothing', () => {
    for (const kind of BAD_PARAMS) {
      for (const call of ['execute', 'run', 'execute_batch']) {
        const c = cases[`${call} params ${kind}`]!
        expect(c, `${call} params ${kind}`).toMatchObject({ raised: 'InvalidArgumentError', code: 'TM_INVALID_ARGUMENT', retryable: false })
        expect(c.message).toMatch(/params must be a list or tuple of values, not a/)
        // No statement reached the TM; a run() not even its Begin.
        expect(c.calls).not.toContain('Execute')
        expect(c.calls).not.toContain('ExecuteBatch')
        if (call === 'run') expect(c.calls).toEqual([])
      }
    }
  })

  it('a value that cannot be sent raises InvalidArgumentError naming its parameter, before any call for run()', () => {
    for (const what of BAD_VALUES) {
      for (const call of ['execute', 'run']) {
        const c = cases[`${call} value ${what}`]!
        expect(c, `${call} value ${what}`).toMatchObject({ raised: 'InvalidArgumentError', code: 'TM_INVALID_ARGUMENT', retryable: false })
        expect(c.message, `${call} value ${what}`).toMatch(/parameter 2: /)
        expect(c.calls).not.toContain('Execute')
        if (call === 'run') expect(c.calls).toEqual([])
      }
    }
  })

  it('run() with no statements (or not a list of them) is refused before its Begin: no transaction is left ACTIVE', () => {
    for (const name of ['run no statements', 'run not a list']) {
      expect(cases[name], name).toMatchObject({ raised: 'InvalidArgumentError', code: 'TM_INVALID_ARGUMENT', calls: [], left: [] })
    }
    expect(cases['run no statements']!.message).toMatch(/run\(\) needs at least one statement/)
  })

  it('bad transaction() and run() options, and bad ArbiterClient() arguments, raise InvalidArgumentError naming them, before any call', () => {
    // Found by hostile testing: protobuf's TypeError or ValueError, a retryable UnavailableError a retry loop never got
    // past (a zero deadline, a URL as the address), or taken silently (wait_for="durabel" committed as "applied").
    const names = Object.keys(cases).filter((n) => /^(transaction|run) (timeout_ms|labels|wait_for)|^client /.test(n))
    expect(names.length).toBe(7 * 2 + 6)
    for (const name of names) {
      expect(cases[name], name).toMatchObject({ raised: 'InvalidArgumentError', code: 'TM_INVALID_ARGUMENT', calls: [], left: [] })
      const field = /^client (\w+)/.exec(name)?.[1] ?? /^(?:transaction|run) (\w+)/.exec(name)![1]!
      expect(cases[name]!.message, name).toContain(field === 'deadline' ? 'deadline_s' : field)
    }
  })

  it('a list or a tuple of parameters still goes through', () => {
    expect(cases['execute params list']).toMatchObject({ raised: null, returned: "[{'v': 'ab'}]" })
    expect(cases['run params tuple']).toMatchObject({ raised: null, returned: "'ab'" })
  })

  it('a Begin that gets no answer (the TM paused) raises UnavailableError, retryable: nothing ran', async () => {
    tm.pause()
    let records: PyRecord[]
    try {
      records = await py.run('client_checks.py', ['begin-fails', '--address', tm.address, '--token', TOKEN, '--deadline-s', '1'])
    } finally {
      tm.resume()
    }
    const begun = byCase(records)
    for (const name of ['run', 'transaction']) {
      expect(begun[name], name).toMatchObject({ raised: 'UnavailableError', code: 'TM_RM_UNAVAILABLE', retryable: true, gtrid: null, calls: ['Begin'] })
      expect(begun[name]!.message).toMatch(/^Begin failed, nothing ran: /)
    }
  })
})
