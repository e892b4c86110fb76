// The range of a 64-bit signed integer: protobuf's int64 (Value.int_value),
// which protobufjs wraps round silently past it, and Redis's integers.
export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

export function fitsInt64(value: bigint): boolean {
  return value >= INT64_MIN && value <= INT64_MAX
}
