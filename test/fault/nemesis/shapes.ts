// The two shapes the nemesis runs in (CI and `npm run soak`): one node on
// its file log, and three nodes on a shared PostgreSQL store with a short
// lease (so takeovers happen within a run). 32 workers over 64 accounts:
// faults stall transfers for seconds, and many in flight keep the run
// covering thousands of them.
import type { NemesisOptions } from './bank-nemesis.js'

type Shape = Omit<NemesisOptions, 'seed' | 'durationMs'>

const LOAD = { concurrency: 32, accountsPerBank: 32, faultGapMs: [200, 1000] } as const

export const ONE_NODE: Shape = { ...LOAD, faultStreams: 3 }
export const THREE_NODES: Shape = { ...LOAD, faultStreams: 4, cluster: { nodes: 3, leaseMs: 2000 } }
