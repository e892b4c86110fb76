// Enum fields of requests. With the loader's `enums: String`, a value the
// proto knows arrives as its name and any other number arrives as that
// number; left alone, an unknown wait_for read as the default and an
// unknown state filter matched nothing. Both are bad input:
// INVALID_ARGUMENT naming the field and the values it takes.
import { TmError } from '../../proto/errors.js'

/** The value when it is one of `values` (a generated enum object), else INVALID_ARGUMENT naming `field`. */
export function enumField<K extends string>(values: Readonly<Record<K, K>>, value: unknown, field: string, options: { allowUnspecified?: boolean } = {}): K {
  const names = Object.keys(values) as K[]
  const allowed = options.allowUnspecified === false ? names.filter((n) => !n.endsWith('_UNSPECIFIED')) : names
  if (typeof value === 'string' && (allowed as string[]).includes(value)) return value as K
  throw new TmError('TM_INVALID_ARGUMENT', `${field}: ${JSON.stringify(value)} is not one of ${allowed.join(', ')}`)
}
