// Original file: proto/arbiter/v1/values.proto

import type { Value as _arbiter_v1_Value, Value__Output as _arbiter_v1_Value__Output } from '../../arbiter/v1/Value.js';

export interface Row {
  'values'?: (_arbiter_v1_Value)[];
}

export interface Row__Output {
  'values': (_arbiter_v1_Value__Output)[];
}
