// Recovery's failed commits and rollbacks are counted by resource and action
// (arbiter_recovery_failures_total): the alert for recovery that cannot
// finish reads them, where counting actions alone could not tell a branch
// retried every pass from many branches finished.
import { describe, expect, it } from 'vitest'
import { ArbiterMetrics } from '../../../server/metrics/arbiter-metrics.js'
import type { RecoveryReport } from '../../../server/recovery/recovery.js'

const branch = { xid: { formatId: 1, gtrid: Buffer.from('n:1'), bqual: Buffer.from('b1') } } as RecoveryReport['steps'][number]['branch']

describe('arbiter_recovery_failures_total', () => {
  it('counts commits and rollbacks whose result is a failure, by resource and action; not waits or successes', async () => {
    const metrics = new ArbiterMetrics()
    const step = (resource: string, action: RecoveryReport['steps'][number]['action'], result: string) => ({ resource, branch, action, result, why: '' })
    metrics.recoveryPass({
      steps: [
        step('pg', 'commit', 'failed: connection refused'),
        step('pg', 'commit', 'done'),
        step('maria', 'rollback', 'failed: XAER_RMFAIL'),
        step('maria', 'wait', 'failed to look'),
        step('maria', 'rollback', 'already done'),
      ],
      unreachable: {},
    })
    const text = await metrics.registry.metrics()
    expect(text).toContain('arbiter_recovery_failures_total{resource="pg",action="commit"} 1')
    expect(text).toContain('arbiter_recovery_failures_total{resource="maria",action="rollback"} 1')
    expect(text).not.toContain('action="wait"} 1\narbiter_recovery_failures')
    expect(text.match(/^arbiter_recovery_failures_total\{/gm)).toHaveLength(2)
    metrics.stop()
  })
})
