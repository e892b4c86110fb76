// The machine and servers a bench result fixture names: shared by the render
// and targets tests, which only vary what they assert on.
import type { Environment } from '../../../bench/result.js'

export const fixtureEnvironment: Environment = {
  cpuModel: 'Test CPU',
  cores: 2,
  memoryGiB: 8,
  os: 'Linux 6',
  node: 'v20.0.0',
  postgres: 'PostgreSQL 15.0',
  mariadb: 'MariaDB 10.11.0',
  durability: 'fsync on',
  tmStatsSource: 'metrics',
}
