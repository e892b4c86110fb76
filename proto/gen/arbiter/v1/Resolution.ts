// Original file: proto/arbiter/v1/admin.proto

export const Resolution = {
  RESOLUTION_UNSPECIFIED: 'RESOLUTION_UNSPECIFIED',
  RESOLUTION_COMMIT: 'RESOLUTION_COMMIT',
  RESOLUTION_ROLLBACK: 'RESOLUTION_ROLLBACK',
} as const;

export type Resolution =
  | 'RESOLUTION_UNSPECIFIED'
  | 0
  | 'RESOLUTION_COMMIT'
  | 1
  | 'RESOLUTION_ROLLBACK'
  | 2

export type Resolution__Output = typeof Resolution[keyof typeof Resolution]
