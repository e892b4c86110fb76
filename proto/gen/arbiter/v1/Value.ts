// Original file: proto/arbiter/v1/values.proto

import type { Long } from '@grpc/proto-loader';

/**
 * A typed SQL parameter or result cell. Integers travel as int64 (decimal
 * strings in JavaScript, so nothing above 2^53 is rounded); exact decimals
 * (NUMERIC, DECIMAL) travel as strings for the same reason.
 */
export interface Value {
  'nullValue'?: (boolean);
  'boolValue'?: (boolean);
  'intValue'?: (number | string | Long);
  'doubleValue'?: (number | string);
  'stringValue'?: (string);
  'bytesValue'?: (Buffer | Uint8Array | string);
  /**
   * Exact decimal, e.g. "12.50".
   */
  'decimalValue'?: (string);
  /**
   * RFC 3339 timestamp, e.g. "2026-11-24T12:00:00.000Z".
   */
  'timestampValue'?: (string);
  /**
   * A JSON document, as text.
   */
  'jsonValue'?: (string);
  'kind'?: "nullValue"|"boolValue"|"intValue"|"doubleValue"|"stringValue"|"bytesValue"|"decimalValue"|"timestampValue"|"jsonValue";
}

/**
 * A typed SQL parameter or result cell. Integers travel as int64 (decimal
 * strings in JavaScript, so nothing above 2^53 is rounded); exact decimals
 * (NUMERIC, DECIMAL) travel as strings for the same reason.
 */
export interface Value__Output {
  'nullValue'?: (boolean);
  'boolValue'?: (boolean);
  'intValue'?: (string);
  'doubleValue'?: (number);
  'stringValue'?: (string);
  'bytesValue'?: (Buffer);
  /**
   * Exact decimal, e.g. "12.50".
   */
  'decimalValue'?: (string);
  /**
   * RFC 3339 timestamp, e.g. "2026-11-24T12:00:00.000Z".
   */
  'timestampValue'?: (string);
  /**
   * A JSON document, as text.
   */
  'jsonValue'?: (string);
  'kind'?: "nullValue"|"boolValue"|"intValue"|"doubleValue"|"stringValue"|"bytesValue"|"decimalValue"|"timestampValue"|"jsonValue";
}
