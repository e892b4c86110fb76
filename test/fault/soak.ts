// `npm run soak -- --seconds 600 --seed 42`: a long nemesis run on one node;
// `--cluster` runs it on three nodes sharing a PostgreSQL store.
import { parseArgs } from 'node:util'
import { formatReport, runNemesis } from './nemesis/bank-nemesis.js'
import { ONE_NODE, THREE_NODES } from './nemesis/shapes.js'

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    seed: { type: 'string' },
    concurrency: { type: 'string' },
    cluster: { type: 'boolean', default: false },
    'tm-log': { type: 'string' },
  },
})
const seed = Number(values.seed ?? Date.now() % 1_000_000)
const seconds = Number(values.seconds)
console.log(`soak: ${seconds} s of random faults, seed ${seed} (replay with --seed ${seed})`)
const started = Date.now()
const ticker = setInterval(() => process.stdout.write(`\r${Math.round((Date.now() - started) / 1000)}/${seconds} s`), 1000)
const report = await runNemesis({
  seed,
  durationMs: seconds * 1000,
  ...(values.cluster ? THREE_NODES : ONE_NODE),
  ...(values.concurrency && { concurrency: Number(values.concurrency) }),
  log: (l) => process.stdout.write(`\n${l}`),
  ...(values['tm-log'] && { tmLogFile: values['tm-log'] }),
})
clearInterval(ticker)
console.log(`\n${formatReport(report)}`)
process.exitCode = report.anomalies.length === 0 ? 0 : 1
