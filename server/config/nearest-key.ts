// "Did you mean …?" for unknown config keys and ARBITER_* variables: the
// known key nearest to a misspelt one by edit distance, compared without
// case, "_" or "-" (so pool_size finds poolSize and GRACEMS finds graceMs).

/** Levenshtein distance (insertions, deletions, substitutions cost 1). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution))
    }
    previous = current
  }
  return previous[b.length]!
}

const normalize = (key: string): string => key.toLowerCase().replace(/[_-]/g, '')

/** The known key closest to `key`, when it is close enough to be a likely typo (at most a third of its letters off, at least 2). */
export function nearestKey(key: string, known: readonly string[]): string | undefined {
  const wanted = normalize(key)
  let best: { key: string; distance: number } | undefined
  for (const candidate of known) {
    const distance = editDistance(wanted, normalize(candidate))
    if (best === undefined || distance < best.distance) best = { key: candidate, distance }
  }
  if (best === undefined) return undefined
  return best.distance <= Math.max(2, Math.floor(wanted.length / 3)) ? best.key : undefined
}
