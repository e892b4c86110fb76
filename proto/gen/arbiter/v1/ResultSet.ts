// Original file: proto/arbiter/v1/values.proto

import type { Column as _arbiter_v1_Column, Column__Output as _arbiter_v1_Column__Output } from '../../arbiter/v1/Column.js';
import type { Row as _arbiter_v1_Row, Row__Output as _arbiter_v1_Row__Output } from '../../arbiter/v1/Row.js';
import type { Long } from '@grpc/proto-loader';

/**
 * One statement's result.
 */
export interface ResultSet {
  'columns'?: (_arbiter_v1_Column)[];
  'rows'?: (_arbiter_v1_Row)[];
  /**
   * Rows inserted, updated or deleted.
   */
  'affectedRows'?: (number | string | Long);
}

/**
 * One statement's result.
 */
export interface ResultSet__Output {
  'columns': (_arbiter_v1_Column__Output)[];
  'rows': (_arbiter_v1_Row__Output)[];
  /**
   * Rows inserted, updated or deleted.
   */
  'affectedRows': (string);
}
