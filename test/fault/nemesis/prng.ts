// A small seeded PRNG (mulberry32): the nemesis draws its schedule from it,
// so a failing run can be replayed with the seed it printed.
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  int(min: number, maxInclusive: number): number
  pick<T>(items: readonly T[]): T
}

export function prng(seed: number): Prng {
  let state = seed >>> 0
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)]!,
  }
}
