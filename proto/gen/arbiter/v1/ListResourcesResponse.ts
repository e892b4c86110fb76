// Original file: proto/arbiter/v1/admin.proto

import type { ResourceHealth as _arbiter_v1_ResourceHealth, ResourceHealth__Output as _arbiter_v1_ResourceHealth__Output } from '../../arbiter/v1/ResourceHealth.js';

export interface ListResourcesResponse {
  'resources'?: (_arbiter_v1_ResourceHealth)[];
}

export interface ListResourcesResponse__Output {
  'resources': (_arbiter_v1_ResourceHealth__Output)[];
}
