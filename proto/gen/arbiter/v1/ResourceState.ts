// Original file: proto/arbiter/v1/admin.proto

export const ResourceState = {
  RESOURCE_STATE_UNSPECIFIED: 'RESOURCE_STATE_UNSPECIFIED',
  /**
   * Connected, and its health check answered.
   */
  RESOURCE_STATE_READY: 'RESOURCE_STATE_READY',
  /**
   * Not connected yet, or not answering now: retried in the background.
   */
  RESOURCE_STATE_UNREACHABLE: 'RESOURCE_STATE_UNREACHABLE',
  /**
   * The server answers but cannot serve Arbiter as configured (PostgreSQL
   * with max_prepared_transactions = 0, a login refused): the node runs
   * without it, its calls get UNAVAILABLE naming it, and it is checked
   * again in the background.
   */
  RESOURCE_STATE_REFUSED: 'RESOURCE_STATE_REFUSED',
} as const;

export type ResourceState =
  | 'RESOURCE_STATE_UNSPECIFIED'
  | 0
  /**
   * Connected, and its health check answered.
   */
  | 'RESOURCE_STATE_READY'
  | 1
  /**
   * Not connected yet, or not answering now: retried in the background.
   */
  | 'RESOURCE_STATE_UNREACHABLE'
  | 2
  /**
   * The server answers but cannot serve Arbiter as configured (PostgreSQL
   * with max_prepared_transactions = 0, a login refused): the node runs
   * without it, its calls get UNAVAILABLE naming it, and it is checked
   * again in the background.
   */
  | 'RESOURCE_STATE_REFUSED'
  | 3

export type ResourceState__Output = typeof ResourceState[keyof typeof ResourceState]
