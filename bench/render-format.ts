// Number formats the Markdown report's tables share.

/** Grouped thousands, e.g. 1,234 (or 1,234.5 with digits). */
export const num = (n: number, digits = 0): string => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** Milliseconds to three significant digits, or so: 123, 12.3, 1.23. */
export const ms = (n: number): string => (n >= 100 ? num(n, 0) : n >= 10 ? num(n, 1) : num(n, 2))
