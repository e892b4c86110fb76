// The run's shared servers, handed to test files by global-setup.ts.
import { inject } from 'vitest'
import type {} from './global-setup.js'

/**
 * In a vitest test file of the integration or fault project: the URLs of the
 * run's shared servers (env URLs or servers started once by global-setup.ts).
 * Isolate each test file with createDatabase(url, 'myprefix').
 */
export function sharedServerUrls(): { pgUrl: string; mysqlUrl: string; redisUrl: string } {
  const pgUrl = inject('pgUrl')
  const mysqlUrl = inject('mysqlUrl')
  const redisUrl = inject('redisUrl')
  if (pgUrl === undefined || mysqlUrl === undefined || redisUrl === undefined) {
    throw new Error(
      'sharedServerUrls(): no shared servers were provided. Run this file in a vitest project whose globalSetup is ' +
        'test/harness/global-setup.ts (the integration and fault projects in vitest.config.ts).',
    )
  }
  return { pgUrl, mysqlUrl, redisUrl }
}
